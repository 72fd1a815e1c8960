"""A generated plugin project passes its own tests unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import Conflict, ValidationFailed
from core.paths import PROJECT_ROOT
from plugin_sdk import Manifest
from plugin_sdk.scaffold import new_plugin_project


def test_generated_project_passes_its_own_tests(tmp_path: Path) -> None:
    root = new_plugin_project("acme-tracker", tmp_path)
    manifest = Manifest.from_file(root / "acme_tracker" / "manifest.json")
    assert manifest.name == "acme-tracker" and manifest.supports_sdk()
    assert (
        'acme-tracker = "acme_tracker.plugin:AcmeTrackerPlugin"'
        in (root / "pyproject.toml").read_text()
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_generated_project_passes_with_bare_pytest(tmp_path: Path) -> None:
    """`pytest` (the console script, not `python -m pytest`) finds the plugin package."""
    root = new_plugin_project("acme-bare", tmp_path)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "pytest"), "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_refuses_bad_names_and_existing_folders(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed):
        new_plugin_project("Acme_Tracker", tmp_path)
    new_plugin_project("acme", tmp_path)
    with pytest.raises(Conflict):
        new_plugin_project("acme", tmp_path)
    assert json.loads((tmp_path / "acme" / "acme" / "manifest.json").read_text())["name"] == "acme"
