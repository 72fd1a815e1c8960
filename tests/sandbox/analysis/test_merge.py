"""Cross-tool de-duplication and fingerprints that survive unrelated edits."""

from __future__ import annotations

from sandbox.analysis.merge import assign_fingerprints, deduplicate, fingerprint
from sandbox.analysis.models import Finding, Severity, Tool


def _finding(tool: Tool, rule: str, line: int, cwe: tuple[int, ...], **extra: object) -> Finding:
    values: dict[str, object] = {
        "tool": tool,
        "rule_id": rule,
        "path": "app.py",
        "start_line": line,
        "end_line": line,
        "severity": Severity.MEDIUM,
        "cwe": cwe,
        "message": f"{rule} message",
        "snippet": "subprocess.call(cmd, shell=True)",
    }
    values.update(extra)
    return Finding.model_validate(values)


def test_same_line_and_cwe_family_merge_into_the_most_specific() -> None:
    merged = deduplicate(
        [
            _finding(Tool.RUFF, "S602", 7, (78,), severity=Severity.LOW),
            _finding(Tool.BANDIT, "B602", 7, (78,), severity=Severity.LOW),
            _finding(Tool.SEMGREP, "py-command-injection", 7, (78,), severity=Severity.HIGH),
            _finding(Tool.RUFF, "S307", 7, (95,)),
            _finding(Tool.BANDIT, "B602", 8, (78,)),
        ]
    )
    assert [(f.rule_key, f.start_line, f.also_reported_by) for f in merged] == [
        ("semgrep/py-command-injection", 7, ["bandit/B602", "ruff/S602"]),
        ("ruff/S307", 7, []),
        ("bandit/B602", 8, []),
    ]
    assert merged[0].severity is Severity.HIGH


def test_variant_cwes_count_as_one_weakness() -> None:
    merged = deduplicate(
        [
            _finding(Tool.SEMGREP, "py-weak-password-hash", 3, (916,), severity=Severity.HIGH),
            _finding(Tool.RUFF, "S324", 3, (327,), severity=Severity.LOW),
        ]
    )
    assert len(merged) == 1 and merged[0].also_reported_by == ["ruff/S324"]


def test_merging_keeps_weaknesses_only_the_other_tool_names() -> None:
    merged = deduplicate(
        [
            _finding(Tool.SEMGREP, "py-template-injection", 4, (1336,), severity=Severity.HIGH),
            _finding(Tool.DATAFLOW, "flow-template-injection", 4, (1336, 79)),
            _finding(Tool.RUFF, "S324", 4, (327,), severity=Severity.LOW),
        ]
    )
    assert [(f.rule_key, f.cwe) for f in merged] == [
        ("semgrep/py-template-injection", (1336, 79)),
        ("ruff/S324", (327,)),
    ]
    assert merged[0].also_reported_by == ["dataflow/flow-template-injection"]


def test_merging_keeps_the_highest_severity() -> None:
    merged = deduplicate(
        [
            _finding(Tool.SEMGREP, "x", 1, (79,), severity=Severity.LOW),
            _finding(Tool.BANDIT, "B701", 1, (79,), severity=Severity.HIGH),
        ]
    )
    assert merged[0].rule_key == "semgrep/x" and merged[0].severity is Severity.HIGH


def test_fingerprints_ignore_line_numbers_and_indentation() -> None:
    before = [_finding(Tool.RUFF, "S602", 7, (78,))]
    after = [
        _finding(Tool.RUFF, "S602", 40, (78,), snippet="    subprocess.call(cmd,  shell=True)")
    ]
    assign_fingerprints(before)
    assign_fingerprints(after)
    assert before[0].fingerprint == after[0].fingerprint
    assert len(before[0].fingerprint) == 32


def test_identical_lines_get_distinct_fingerprints_in_file_order() -> None:
    findings = [_finding(Tool.RUFF, "S602", line, (78,)) for line in (30, 10, 20)]
    assign_fingerprints(findings)
    by_line = {f.start_line: f for f in findings}
    assert len({f.fingerprint for f in findings}) == 3
    line = "subprocess.call(cmd, shell=True)"
    assert by_line[10].fingerprint == fingerprint("CWE-78", "app.py", line, 0)
    assert by_line[30].fingerprint == fingerprint("CWE-78", "app.py", line, 2)
    # the v1 identity (by rule) rides along, for records kept under it
    assert by_line[30].earlier_fingerprints == [fingerprint("ruff/S602", "app.py", line, 2)]


def test_fingerprint_changes_with_weakness_path_or_text() -> None:
    base = fingerprint("CWE-78", "a.py", "x()", 0)
    assert base != fingerprint("CWE-89", "a.py", "x()", 0)
    assert base != fingerprint("CWE-78", "b.py", "x()", 0)
    assert base != fingerprint("CWE-78", "a.py", "y()", 0)


def _identity(findings: list[Finding]) -> list[tuple[str, str]]:
    kept = deduplicate(findings)
    assign_fingerprints(kept)
    return [(f.rule_key, f.fingerprint) for f in kept]


def test_a_problem_keeps_its_fingerprint_whichever_tool_reports_it() -> None:
    # one push: semgrep, the dataflow pass and bandit see the command injection; the next,
    # semgrep times out and only the others do; then only bandit
    all_tools = _identity([
        _finding(Tool.SEMGREP, "py-command-injection", 7, (78,)),
        _finding(Tool.DATAFLOW, "flow-command-injection", 7, (78,)),
        _finding(Tool.BANDIT, "B602", 7, (88,)),  # a variant of the same weakness
    ])  # fmt: skip
    without_semgrep = _identity([
        _finding(Tool.DATAFLOW, "flow-command-injection", 7, (78,)),
        _finding(Tool.BANDIT, "B602", 7, (78,)),
    ])  # fmt: skip
    bandit_alone = _identity([_finding(Tool.BANDIT, "B602", 7, (88,))])
    assert [rule for rule, _ in all_tools + without_semgrep + bandit_alone] == [
        "semgrep/py-command-injection", "dataflow/flow-command-injection", "bandit/B602",
    ]  # fmt: skip
    assert len({fp for _, fp in all_tools + without_semgrep + bandit_alone}) == 1
    # the extra weakness a merge adds after the kept rule's own does not change it either
    template = _identity([
        _finding(Tool.SEMGREP, "py-template-injection", 4, (1336,)),
        _finding(Tool.DATAFLOW, "flow-template-injection", 4, (1336, 79)),
    ])  # fmt: skip
    assert template == _identity([_finding(Tool.SEMGREP, "py-template-injection", 4, (1336,))])
    assert template[0][1] == _identity([_finding(Tool.DATAFLOW, "flow-template-injection", 4,
                                                 (1336, 79))])[0][1]  # fmt: skip


def test_a_finding_without_a_cwe_is_identified_by_its_rule() -> None:
    (_, a), (_, b) = _identity([
        _finding(Tool.SEMGREP, "py-debug-enabled", 3, ()),
        _finding(Tool.RUFF, "T201", 3, ()),
    ])  # fmt: skip
    assert a != b
    assert a == fingerprint(
        "semgrep/py-debug-enabled", "app.py", "subprocess.call(cmd, shell=True)", 0
    )
