"""The analyzers' own virtual environment (semgrep, ruff, bandit), installed on first use.

The bwrap backend mounts it read-only into the sandbox. ``make tools`` builds it for a checkout;
a user who only installed the package gets it from ``review`` on first use, from the pinned
``requirements-analyzers.txt`` shipped inside the package (pip, PyPI or the configured index).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from importlib.resources import as_file, files
from pathlib import Path

from sandbox.errors import SandboxUnavailable

MARKER = ".installed"  # the Makefile's `tools` target writes the same one
INSTALL_TIMEOUT_S = 900.0


def analyzers_installed(tools_dir: Path) -> bool:
    """Whether a complete install is there (the marker is written last)."""
    return (tools_dir / MARKER).is_file()


def needs_install(backend: str, tools_dir: Path, docker_usable: Callable[[], bool]) -> bool:
    """Whether ``review`` must install the analyzers first: bwrap will run and they are missing.

    ``docker_usable`` is asked only for ``auto`` (the Docker image carries its own analyzers).
    """
    if backend == "docker" or analyzers_installed(tools_dir):
        return False
    return backend == "bwrap" or not docker_usable()


def base_python() -> str:
    """The interpreter to build the venv from: the one under this venv, else this one."""
    return getattr(sys, "_base_executable", None) or sys.executable


def install_analyzers(tools_dir: Path, say: Callable[[str], None]) -> None:
    """Create the venv at ``tools_dir`` and pip-install the pinned analyzers into it."""
    say(
        f"first use: installing the analyzers (semgrep, ruff, bandit) into {tools_dir}; this "
        "downloads about 100 MB once and takes a minute or two"
    )
    tools_dir.parent.mkdir(parents=True, exist_ok=True)
    python = tools_dir / "bin" / "python"
    with as_file(files("sandbox") / "requirements-analyzers.txt") as requirements:
        steps = [
            [base_python(), "-m", "venv", str(tools_dir)],
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "-r", str(requirements)],
        ]  # fmt: skip
        for argv in steps:
            _run(argv)
    (tools_dir / MARKER).touch()
    say("analyzers installed")


def _run(argv: list[str]) -> None:
    try:
        result = subprocess.run(  # noqa: S603 - our own interpreter and pip, no shell
            argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise SandboxUnavailable(f"installing the analyzers timed out: {' '.join(argv)}") from err
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip()[-800:]
        raise SandboxUnavailable(
            f"installing the analyzers failed ({' '.join(argv[:4])} …): {tail}; run it again "
            "when the package index is reachable, or point DCODER_SANDBOX_TOOLS_DIR at an "
            "existing analyzer venv"
        )
