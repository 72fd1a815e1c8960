"""The dataflow pass as an analyzer: run in the sandbox, merged, fingerprinted; what it clears."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT
from sandbox.analysis import AnalysisOptions, Tool, analyze, dataflow, realistic, to_sarif
from sandbox.analysis.models import Finding, Severity
from sandbox.backends.base import Limits, SandboxBackend

REALISTIC = PROJECT_ROOT / "tests" / "corpus-realistic"

CROSS_FUNCTION = """import os
import shlex

from flask import Flask, request

app = Flask(__name__)


def quoted(raw):
    return shlex.quote(raw)


def run(command):
    return os.system(command)


@app.post("/safe")
def safe():
    return {"rc": run("ping -c 1 " + quoted(request.form["host"]))}


@app.post("/fixed")
def fixed():
    return {"rc": run("uptime")}
"""
VULNERABLE = CROSS_FUNCTION.replace("quoted(request.form", "(request.form")


def test_payload_fits_one_argument() -> None:
    assert len(dataflow.payload()) < dataflow.MAX_PAYLOAD
    assert dataflow.argv(["a.py"])[-1] == "a.py"


def test_proven_clean_sinks_silence_other_tools(
    tmp_path: Path, bwrap_backend: SandboxBackend, analysis_limits: Limits
) -> None:
    (tmp_path / "app.py").write_text(CROSS_FUNCTION)
    report = analyze(tmp_path, backend=bwrap_backend, limits=analysis_limits)
    assert report.complete, report.runs
    assert {run.tool for run in report.runs} == set(AnalysisOptions().tools)
    # bandit/ruff see os.system(command) in run() and cannot know it only gets quoted text
    assert report.findings == []
    baseline = analyze(
        tmp_path,
        backend=bwrap_backend,
        limits=analysis_limits,
        options=AnalysisOptions(tools=(Tool.SEMGREP, Tool.RUFF, Tool.BANDIT)),
    )
    assert [f.rule_key for f in baseline.findings] == ["bandit/B605"]


def test_a_cross_function_flow_is_a_fingerprinted_sarif_result(
    tmp_path: Path, bwrap_backend: SandboxBackend, analysis_limits: Limits
) -> None:
    (tmp_path / "app.py").write_text(VULNERABLE)
    report = analyze(tmp_path, backend=bwrap_backend, limits=analysis_limits)
    assert [(f.rule_key, f.start_line, f.severity) for f in report.findings] == [
        ("dataflow/flow-command-injection", 14, Severity.HIGH)
    ]
    finding = report.findings[0]
    assert finding.also_reported_by == ["bandit/B605", "ruff/S605"]
    assert "flask.request.form at app.py:19" in finding.message and finding.fingerprint
    sarif = json.loads(to_sarif(report))
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "dataflow/flow-command-injection"
    assert result["partialFingerprints"] == {
        "dcoderFindingHash/v2": finding.fingerprint,
        "dcoderFindingHash/v1": finding.earlier_fingerprints[0],
    }
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "external/cwe/cwe-78" in rules["dataflow/flow-command-injection"]["properties"]["tags"]


def test_suppression_keeps_lines_the_pass_did_not_prove() -> None:
    def finding(tool: Tool, line: int, cwe: tuple[int, ...]) -> Finding:
        return Finding(tool=tool, rule_id="r", path="a.py", start_line=line, end_line=line,
                       severity=Severity.LOW, cwe=cwe, message="m")  # fmt: skip

    findings = [
        finding(Tool.BANDIT, 3, (78,)),  # proven clean: dropped
        finding(Tool.BANDIT, 4, (78,)),  # never reached by the pass: kept
        finding(Tool.RUFF, 3, (95,)),  # another weakness on the clean line: kept
        finding(Tool.BANDIT, 5, (916,)),  # same family as a clean CWE-328 sink: dropped
    ]
    kept = dataflow.suppress_proven_clean(findings, {("a.py", 3, 78), ("a.py", 5, 327)})
    assert [(f.start_line, f.cwe) for f in kept] == [(4, (78,)), (3, (95,))]


def test_a_broken_output_is_an_error_not_a_crash() -> None:
    with pytest.raises(dataflow.DataflowError):
        dataflow.parse("Traceback (most recent call last): ...")


def test_a_partial_run_keeps_its_findings_but_proves_nothing() -> None:
    item = {"rule_id": "flow-xss", "path": "a.py", "line": 3, "message": "m"}
    out = {"findings": [item], "clean": [{"path": "a.py", "line": 4, "cwe": [78]}],
           "errors": ["dataflow: statement budget exhausted"], "complete": False}  # fmt: skip
    with pytest.raises(dataflow.PartialRun) as caught:
        dataflow.parse(json.dumps(out))
    assert [f.rule_id for f in caught.value.findings] == ["flow-xss"]


def test_realistic_corpus_meets_the_goal(
    bwrap_backend: SandboxBackend, analysis_limits: Limits
) -> None:
    """Issue 18's bar on the corpus the rules were not written against (both case sets)."""
    report = analyze(REALISTIC, backend=bwrap_backend, limits=analysis_limits)
    assert report.complete, report.runs
    cases = realistic.read_cases(REALISTIC) + [
        realistic.Case(f"{held}/{c.path}", c.vulnerable, c.cwe)
        for held in ("holdout", "holdout2")
        for c in realistic.read_cases(REALISTIC / held, exclude=())
    ]
    assert len(cases) >= 8 * len(realistic.FAMILIES)
    scores = realistic.score(cases, report.findings)
    assert len(scores) == len(realistic.FAMILIES)
    weak = {name: round(s.score, 2) for name, s in scores.items() if s.score < 0.3}
    assert weak == {} and realistic.mean_score(scores) >= 0.6
