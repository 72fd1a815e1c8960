"""Fixtures of the analysis tests: the bwrap backend (always available here) and git trees."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.settings import SandboxSettings
from sandbox.backends.base import Limits, SandboxBackend
from sandbox.backends.select import build


@pytest.fixture(scope="session")
def bwrap_backend() -> SandboxBackend:
    """The daemonless backend; every analysis test runs the real analyzers through it."""
    backend = build("bwrap", SandboxSettings())
    why = backend.available()
    if why:
        pytest.fail(f"bwrap backend unusable: {why}")
    return backend


@pytest.fixture
def analysis_limits() -> Limits:
    """Roomy enough for semgrep, tight enough to end a runaway within a minute."""
    return Limits(wall_timeout_s=120, memory_mb=2048, pids=256)


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; return stdout."""
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository on branch main."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path
