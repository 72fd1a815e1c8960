"""The real analyzers run in every backend; backend selection follows the settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.settings import SandboxSettings
from sandbox.backends import select_backend
from sandbox.backends.base import CONFIG_MOUNT, Limits, SandboxBackend, Workspace
from sandbox.errors import SandboxUnavailable

RULE = """
rules:
  - id: shell-true
    pattern: subprocess.call(..., shell=True)
    message: shell=True
    languages: [python]
    severity: ERROR
"""


def test_analyzers_run_inside(
    backend: SandboxBackend, source_tree: Path, tmp_path: Path, limits: Limits
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "rules.yaml").write_text(RULE)
    ws = backend.prepare(source_tree, config_dir=rules)
    roomy = limits.model_copy(update={"memory_mb": 2048, "pids": 256, "wall_timeout_s": 120})
    try:
        semgrep = backend.run(
            ws,
            ["/tools/bin/semgrep", "scan", "--metrics=off", "--disable-version-check",
             "--config", f"{CONFIG_MOUNT}/rules.yaml", "--json", "."],
            roomy,
        )  # fmt: skip
        bandit = backend.run(ws, ["/tools/bin/bandit", "-q", "-f", "json", "-r", "."], roomy)
        ruff = backend.run(ws, ["/tools/bin/ruff", "check", "--output-format=json", "."], roomy)
    finally:
        backend.cleanup(ws)
    assert semgrep.exit_code == 0, semgrep.stderr[-2000:]
    assert [r["check_id"] for r in json.loads(semgrep.stdout)["results"]] == ["config.shell-true"]
    assert {r["test_id"] for r in json.loads(bandit.stdout)["results"]} >= {"B602"}
    assert ruff.exit_code == 0, ruff.stderr
    assert json.loads(ruff.stdout) == []
    assert {semgrep.backend, bandit.backend, ruff.backend} == {backend.name}


def test_workspace_is_gone_after_cleanup(backend: SandboxBackend, source_tree: Path) -> None:
    ws: Workspace = backend.prepare(source_tree)
    assert (ws.host_path / "app.py").exists()
    backend.cleanup(ws)
    backend.cleanup(ws)  # twice is fine
    assert not ws.host_path.exists()


def test_explicit_bwrap_is_selected(sandbox_settings: SandboxSettings) -> None:
    chosen = select_backend(sandbox_settings.model_copy(update={"backend": "bwrap"}))
    assert chosen.name == "bwrap"


def test_docker_without_engine_is_refused_with_the_reason(
    sandbox_settings: SandboxSettings, tmp_path: Path
) -> None:
    silent = f"unix://{tmp_path}/no-engine.sock"
    settings = sandbox_settings.model_copy(update={"backend": "docker", "docker_host": silent})
    with pytest.raises(SandboxUnavailable, match="no Docker engine answers"):
        select_backend(settings)


def test_auto_falls_back_to_bwrap_without_engine(
    sandbox_settings: SandboxSettings, tmp_path: Path
) -> None:
    silent = f"unix://{tmp_path}/no-engine.sock"
    settings = sandbox_settings.model_copy(update={"backend": "auto", "docker_host": silent})
    assert select_backend(settings).name == "bwrap"


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
def test_auto_prefers_docker_when_usable(sandbox_settings: SandboxSettings) -> None:
    assert select_backend(sandbox_settings.model_copy(update={"backend": "auto"})).name == "docker"
