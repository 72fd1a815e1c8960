"""Parsers of the analyzers' JSON, fed with output of the real tools run on a small sample.

These unit tests run the analyzers as plain local subprocesses (the thin runner below) to get
real output to parse; the engine itself only ever runs them inside the sandbox.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT
from sandbox.analysis import analyzers, catalog
from sandbox.analysis.analyzers import AnalysisOptions, AnalyzerError
from sandbox.analysis.models import Severity, Tool
from sandbox.backends.base import CONFIG_MOUNT, TOOLS_MOUNT

TOOLS = PROJECT_ROOT / ".tools"
SAMPLE = """import hashlib
import subprocess
from flask import request


def handler(cmd, password):
    subprocess.call(cmd, shell=True)
    subprocess.call("ls -l", shell=True)
    hashlib.md5(password.encode())
    assert cmd
    eval(request.args["x"])
"""


def run_local(argv: list[str], cwd: Path) -> str:
    """Run a sandbox command line on the host, mapping /tools and /config to local paths."""
    mapping = {TOOLS_MOUNT: str(TOOLS), CONFIG_MOUNT: str(catalog.RULES_DIR)}
    local = [
        next((a.replace(k, v, 1) for k, v in mapping.items() if a.startswith(k)), a) for a in argv
    ]
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0"}
    done = subprocess.run(local, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    (root / "pkg").mkdir()
    (root / "pkg" / "app.py").write_text(SAMPLE)
    (root / "node_modules").mkdir()
    (root / "node_modules" / "dep.py").write_text("eval(input())\n")
    (root / ".semgrepignore").write_text(analyzers.semgrepignore())
    return root


def test_ruff_output_keeps_real_problems_only(sample: Path) -> None:
    findings = analyzers.parse_ruff(run_local(analyzers.ruff_argv([]), sample), str(sample))
    got = {(f.rule_id, f.path, f.start_line) for f in findings}
    # shell=True with a constant ("seems safe"), assert and node_modules are left out
    assert got == {("S602", "pkg/app.py", 7), ("S324", "pkg/app.py", 9), ("S307", "pkg/app.py", 11)}
    shell = next(f for f in findings if f.rule_id == "S602")
    assert shell.cwe == (78,) and shell.severity is Severity.LOW and shell.start_column == 5
    assert shell.fix_hint


def test_bandit_output_maps_cwe_and_drops_constant_commands(sample: Path) -> None:
    findings, errors = analyzers.parse_bandit(run_local(analyzers.bandit_argv([]), sample))
    assert errors == []
    got = {(f.rule_id, f.path, f.start_line) for f in findings}
    assert got == {("B602", "pkg/app.py", 7), ("B324", "pkg/app.py", 9), ("B307", "pkg/app.py", 11)}
    assert all(f.tool is Tool.BANDIT and f.cwe for f in findings)


def test_semgrep_output_uses_our_rule_metadata(sample: Path) -> None:
    argv = analyzers.semgrep_argv([], AnalysisOptions(jobs=1))
    findings, errors = analyzers.parse_semgrep(run_local(argv, sample), catalog.semgrep_rules())
    assert errors == []
    assert [(f.rule_id, f.path, f.start_line) for f in findings] == [
        ("py-weak-password-hash", "pkg/app.py", 9),
        ("py-code-injection", "pkg/app.py", 11),
    ]
    finding = findings[1]
    assert finding.cwe == (95,) and finding.severity is Severity.HIGH
    assert "json.loads" in finding.fix_hint
    assert finding.message == "Untrusted input is evaluated as Python code by `eval`."


def test_explicit_targets_replace_the_whole_tree() -> None:
    argv = analyzers.semgrep_argv(["a.py", "b/c.py"], AnalysisOptions(jobs=3))
    assert argv[-2:] == ["a.py", "b/c.py"] and "--jobs" in argv and "3" in argv
    assert "--metrics=off" in argv and argv[argv.index("--config") + 1] == CONFIG_MOUNT
    assert analyzers.bandit_argv([])[-2:] == ["--recursive", "."]
    assert analyzers.bandit_argv(["x.py"])[-1] == "x.py"


def test_output_that_is_not_json_is_an_analyzer_error() -> None:
    with pytest.raises(AnalyzerError, match="ruff printed no JSON"):
        analyzers.parse_ruff("ruff failed: boom")


def test_ignored_checks_are_known_to_ruff() -> None:
    codes = catalog.ruff_ignored()
    assert "S101" in codes and "S4" in codes and "S602" not in codes
    assert "B311" in catalog.bandit_skipped()
