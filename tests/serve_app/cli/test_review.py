"""`dcoder-integrations review`: the real sandboxed analysis of a local checkout."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from serve_app.cli.main import main

VULNERABLE = "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
        capture_output=True,
    )  # fmt: skip


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git checkout whose last commit adds a shell=True call."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "safe.py").write_text("print('ok')\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "init")
    (repo / "app.py").write_text(VULNERABLE)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "add app")
    return repo


def test_sarif_report_of_the_whole_tree(checkout: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    status = main(["review", str(checkout), "--format", "sarif", "--output", str(out), "--quiet",
                   "--backend", "bwrap", "--fail-on", "low"])  # fmt: skip
    log = json.loads(out.read_text())
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert any(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.py"
        for r in results
    )
    assert status == 1  # --fail-on low and a finding exists


def test_json_report_of_changes_since_base_names_the_backend(
    checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["review", str(checkout), "--base", "HEAD~1", "--format", "json", "--quiet",
                   "--backend", "bwrap"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["backend"] == "bwrap"
    assert report["changed_files"] == ["app.py"]
    assert {f["path"] for f in report["findings"]} == {"app.py"}


def test_unusable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert main(["review", str(tmp_path), "--base=--upload-pack=x", "--quiet"]) == 2
