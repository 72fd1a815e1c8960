"""Sandbox backends as fixtures: every backend test runs once per backend.

``bwrap`` must always work (its binary is a dependency). ``docker`` is skipped, with the reason,
only when no Docker engine answers; an engine without the analysis image is a failure
(``make test`` builds the image whenever an engine answers).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import SandboxSettings
from sandbox.backends.base import Limits, SandboxBackend, Workspace
from sandbox.backends.select import build

BACKENDS = ("bwrap", pytest.param("docker", marks=pytest.mark.docker))


def _engine_silence(settings: SandboxSettings) -> str | None:
    """Why no Docker engine answers, or None when one does."""
    from sandbox.backends.docker import DockerBackend

    backend = DockerBackend(settings.docker_image, settings.docker_host)
    try:
        backend.client.ping()
    except Exception as err:  # noqa: BLE001 - any failure means "no engine"
        name = err.__class__.__name__
        return f"no Docker engine answers ({name}); start one: sandbox/docker/engine.sh start"
    return None


@pytest.fixture(scope="session")
def sandbox_settings() -> SandboxSettings:
    """The sandbox settings of this test session (environment included)."""
    return SandboxSettings()


@pytest.fixture(scope="session")
def docker_engine(sandbox_settings: SandboxSettings) -> None:
    """Skips (with the reason) when no Docker engine answers."""
    silence = _engine_silence(sandbox_settings)
    if silence:
        pytest.skip(silence)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, sandbox_settings: SandboxSettings) -> SandboxBackend:
    """Each sandbox backend in turn."""
    name: str = request.param
    if name == "docker":
        silence = _engine_silence(sandbox_settings)
        if silence:
            pytest.skip(silence)
    chosen = build(name, sandbox_settings)
    why = chosen.available()
    if why:
        pytest.fail(f"{name} backend unusable: {why}")
    return chosen


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """A small tree to analyse."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("import subprocess\n\nsubprocess.call('ls', shell=True)\n")
    return src


@pytest.fixture
def workspace(backend: SandboxBackend, source_tree: Path) -> Iterator[Workspace]:
    """A prepared workspace of ``source_tree``, cleaned up afterwards."""
    ws = backend.prepare(source_tree)
    yield ws
    backend.cleanup(ws)


@pytest.fixture
def limits() -> Limits:
    """Tight limits so that every containment test ends within seconds."""
    return Limits(
        wall_timeout_s=20,
        memory_mb=256,
        cpus=1.0,
        pids=48,
        max_output_bytes=256 * 1024,
        max_file_mb=8,
        scratch_mb=16,
    )
