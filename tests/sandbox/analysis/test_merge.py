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
    by_line = {f.start_line: f.fingerprint for f in findings}
    assert len(set(by_line.values())) == 3
    line = "subprocess.call(cmd, shell=True)"
    assert by_line[10] == fingerprint("ruff/S602", "app.py", line, 0)
    assert by_line[30] == fingerprint("ruff/S602", "app.py", line, 2)


def test_fingerprint_changes_with_rule_path_or_text() -> None:
    base = fingerprint("ruff/S602", "a.py", "x()", 0)
    assert base != fingerprint("bandit/B602", "a.py", "x()", 0)
    assert base != fingerprint("ruff/S602", "b.py", "x()", 0)
    assert base != fingerprint("ruff/S602", "a.py", "y()", 0)
