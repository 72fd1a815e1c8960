"""The analyzers install themselves on first use of `review` (a user without the Makefile).

The real install (venv + pip from the package's requirements-analyzers.txt) into an empty folder
takes about 40 s here with pip's cache warm, so it runs for real; the decision is tested apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.analysis.models import AnalysisReport
from sandbox.analyzers_install import MARKER, needs_install
from serve_app.cli.main import main


def _never() -> bool:
    raise AssertionError("docker must not be probed")


def test_install_is_needed_only_when_bwrap_runs_without_analyzers(tmp_path: Path) -> None:
    empty, ready = tmp_path / "empty", tmp_path / "ready"
    ready.mkdir()
    (ready / MARKER).touch()
    assert needs_install("bwrap", empty, _never)
    assert not needs_install("bwrap", ready, _never)
    assert not needs_install("docker", empty, _never)  # the image carries its analyzers
    assert not needs_install("auto", empty, lambda: True)  # auto picks docker
    assert needs_install("auto", empty, lambda: False)  # auto falls back to bwrap
    assert not needs_install("auto", ready, _never)
    (empty / "bin").mkdir(parents=True)  # a venv whose install never finished
    assert needs_install("bwrap", empty, _never)


def test_review_installs_the_analyzers_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = tmp_path / "tools"
    monkeypatch.setenv("DCODER_SANDBOX_TOOLS_DIR", str(tools))
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    )
    args = ["review", str(code), "--backend", "bwrap", "--format", "json", "--quiet"]

    assert main(args) == 0
    captured = capsys.readouterr()
    assert f"first use: installing the analyzers (semgrep, ruff, bandit) into {tools}" in (
        captured.err
    )
    assert "analyzers installed" in captured.err
    assert (tools / MARKER).is_file() and (tools / "bin" / "semgrep").exists()
    report = AnalysisReport.model_validate_json(captured.out)  # exit 0: every analyzer ran
    assert report.complete and report.findings, report
    assert {run.tool.value for run in report.runs} >= {"semgrep", "ruff", "bandit"}

    assert main(args) == 0  # second use: nothing to install
    assert "installing" not in capsys.readouterr().err
