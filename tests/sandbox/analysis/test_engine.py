"""The engine end to end: real analyzers in the real sandbox on real git repositories."""

from __future__ import annotations

from pathlib import Path

from sandbox.analysis import AnalysisOptions, Severity, Tool, analyze, to_markdown, to_sarif
from sandbox.backends.base import Limits, SandboxBackend
from tests.sandbox.analysis.conftest import git

VULNERABLE = """import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args["host"]
    return subprocess.check_output("ping -c 1 " + host, shell=True)
"""
SAFE_ADDITION = """

@app.route("/ping2")
def ping2():
    return subprocess.check_output(["ping", "-c", "1", request.args["host"]])
"""
NEW_VULN = """

@app.route("/calc")
def calc():
    return str(eval(request.args["expr"]))
"""


def _commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def test_whole_tree_merges_the_four_tools(
    repo: Path, bwrap_backend: SandboxBackend, analysis_limits: Limits
) -> None:
    (repo / "app.py").write_text(VULNERABLE)
    messages: list[str] = []
    report = analyze(repo, backend=bwrap_backend, limits=analysis_limits, progress=messages.append)
    assert report.complete and report.backend == "bwrap" and report.changed_files is None
    assert [(f.rule_key, f.path, f.start_line) for f in report.findings] == [
        ("semgrep/py-command-injection", "app.py", 11)
    ]
    finding = report.findings[0]
    assert finding.also_reported_by == [
        "dataflow/flow-command-injection", "bandit/B602", "ruff/S602"
    ]  # fmt: skip
    assert finding.severity is Severity.HIGH and finding.cwe == (78,)
    assert finding.snippet == 'return subprocess.check_output("ping -c 1 " + host, shell=True)'
    assert {r.key for r in report.rules} == {
        "semgrep/py-command-injection", "dataflow/flow-command-injection", "bandit/B602",
        "ruff/S602",
    }  # fmt: skip
    assert any(m.startswith("semgrep:") for m in messages) and messages[-1].startswith("done")
    assert "external/cwe/cwe-78" in to_sarif(report)
    assert "`app.py:11`" in to_markdown(report)


def test_base_limits_findings_to_changed_lines(
    repo: Path, bwrap_backend: SandboxBackend, analysis_limits: Limits
) -> None:
    (repo / "app.py").write_text(VULNERABLE)
    (repo / "old.py").write_text("import os\nos.system(input())\n")
    _commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app.py").write_text(VULNERABLE + SAFE_ADDITION + NEW_VULN)
    (repo / "README.md").write_text("docs only\n")
    _commit_all(repo, "feature")
    report = analyze(repo, base="main", backend=bwrap_backend, limits=analysis_limits)
    assert report.changed_files == ["README.md", "app.py"]
    assert [(f.rule_key, f.start_line) for f in report.findings] == [
        ("semgrep/py-code-injection", 21)
    ]


def test_fingerprints_survive_lines_moving(
    repo: Path, bwrap_backend: SandboxBackend, analysis_limits: Limits
) -> None:
    (repo / "app.py").write_text(VULNERABLE)
    before = analyze(repo, backend=bwrap_backend, limits=analysis_limits)
    (repo / "app.py").write_text("# a new header line\n\n" + VULNERABLE)
    after = analyze(repo, backend=bwrap_backend, limits=analysis_limits)
    assert after.findings[0].start_line == before.findings[0].start_line + 2
    assert after.findings[0].fingerprint == before.findings[0].fingerprint


def test_a_finding_keeps_its_fingerprint_when_semgrep_does_not_report(
    repo: Path, bwrap_backend: SandboxBackend, analysis_limits: Limits
) -> None:
    # A push where semgrep reports nothing (a rule timing out, the tool failing): the dataflow
    # pass still finds the injection, and it must be the same finding for the review's ledger.
    (repo / "app.py").write_text(VULNERABLE)
    every = analyze(repo, backend=bwrap_backend, limits=analysis_limits)
    options = AnalysisOptions(tools=(Tool.RUFF, Tool.BANDIT, Tool.DATAFLOW))
    without = analyze(repo, backend=bwrap_backend, limits=analysis_limits, options=options)
    assert [f.rule_key for f in every.findings] == ["semgrep/py-command-injection"]
    assert [f.rule_key for f in without.findings] == ["dataflow/flow-command-injection"]
    assert without.findings[0].fingerprint == every.findings[0].fingerprint
    # the v1 identity named the kept rule: it differed, and it still rides along
    assert without.findings[0].earlier_fingerprints != every.findings[0].earlier_fingerprints


def test_no_change_runs_no_analyzer(
    repo: Path, bwrap_backend: SandboxBackend, analysis_limits: Limits
) -> None:
    (repo / "app.py").write_text(VULNERABLE)
    _commit_all(repo, "base")
    report = analyze(repo, base="main", backend=bwrap_backend, limits=analysis_limits)
    assert report.findings == [] and report.changed_files == []
    assert all(run.skipped for run in report.runs)


def test_project_tool_config_cannot_hide_findings(
    repo: Path, bwrap_backend: SandboxBackend, analysis_limits: Limits
) -> None:
    (repo / "app.py").write_text(VULNERABLE)
    (repo / ".semgrepignore").write_text("*.py\n")
    (repo / ".bandit").write_text("[bandit]\nskips: B602\n")
    (repo / "pyproject.toml").write_text('[tool.ruff.lint]\nignore = ["S"]\n')
    (repo / ".semgrep.yml").write_text("rules: []\n")
    report = analyze(repo, backend=bwrap_backend, limits=analysis_limits)
    assert report.findings[0].rule_key == "semgrep/py-command-injection"
    assert report.findings[0].also_reported_by == [
        "dataflow/flow-command-injection", "bandit/B602", "ruff/S602"
    ]  # fmt: skip


def test_a_tool_stopped_by_the_sandbox_is_reported_not_raised(
    repo: Path, bwrap_backend: SandboxBackend
) -> None:
    (repo / "app.py").write_text(VULNERABLE)
    tight = Limits(wall_timeout_s=0.3, memory_mb=2048, pids=256)
    report = analyze(repo, backend=bwrap_backend, limits=tight)
    semgrep = next(run for run in report.runs if run.tool is Tool.SEMGREP)
    assert not report.complete and not semgrep.ok
    assert semgrep.error is not None and "timeout" in semgrep.error


def test_every_backend_runs_the_analysis(
    repo: Path, backend: SandboxBackend, analysis_limits: Limits
) -> None:
    (repo / "app.py").write_text(VULNERABLE)
    options = AnalysisOptions(jobs=1)
    report = analyze(repo, backend=backend, limits=analysis_limits, options=options)
    assert report.complete, report.runs
    assert report.backend == backend.name
    assert report.findings[0].rule_key == "semgrep/py-command-injection"
