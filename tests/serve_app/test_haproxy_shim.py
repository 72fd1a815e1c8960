"""The HAProxy shim: Serve's template rendered for real, hardened, then the real binary started."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from serve_app.launcher.haproxy_shim import EX_CONFIG, REAL_BINARY_ENV, exposed, harden


def _rendered(root: Path) -> str:
    """Serve 2.60's own template, rendered by Serve's own code for one backend."""
    from ray.serve._private.haproxy import BackendConfig, HAProxyApi, HAProxyConfig, ServerConfig

    cfg = HAProxyConfig(
        socket_path=str(root / "admin.sock"), server_state_base=str(root),
        server_state_file=str(root / "state"), stats_port=18404, metrics_port=19101,
    )  # fmt: skip
    cfg.http_options.host = "127.0.0.1"
    cfg.http_options.port = 8085
    server = ServerConfig(name="r1", host="127.0.0.1", port=30001)
    backend = BackendConfig(name="dcoder", path_prefix="/", servers=[server])
    api = HAProxyApi(cfg=cfg, backend_configs={"dcoder": backend}, config_file_path=str(root / "c"))
    api._generate_config_file_internal()
    return (root / "c").read_text()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> str:
    try:
        return _rendered(tmp_path_factory.mktemp("haproxy"))
    except (AttributeError, TypeError) as err:  # the renderer's private surface moved
        pytest.fail(f"Serve's HAProxy renderer changed; re-check the shim against it: {err!r}")


def test_serves_template_exposes_stats_metrics_and_admin_socket(rendered: str) -> None:
    # What the shim exists for: if Serve fixes its template, this fails and the shim can go.
    assert "bind *:18404" in rendered
    assert "bind :19101" in rendered
    assert "mode 666 level admin" in rendered
    assert sorted(exposed(rendered)) == ["*:18404", ":19101"]


def test_harden_keeps_everything_on_loopback(rendered: str) -> None:
    hardened = harden(rendered)
    assert exposed(hardened) == []
    assert "bind 127.0.0.1:18404" in hardened
    assert "bind 127.0.0.1:19101" in hardened
    assert "mode 600 level admin" in hardened
    assert "bind 127.0.0.1:8085" in hardened  # the frontend where http_options put it
    assert harden(hardened) == hardened


def test_an_operator_chosen_frontend_host_is_kept() -> None:
    config = "frontend f\n    bind 0.0.0.0:8085\nlisten stats\n  bind *:8404\n"
    hardened = harden(config)
    assert "bind 0.0.0.0:8085" in hardened
    assert exposed(hardened, frontend_host="0.0.0.0") == []  # noqa: S104
    assert exposed(hardened) == ["0.0.0.0:8085"]


SHIM = "serve_app.launcher.haproxy_shim"


def _run_shim(tmp_path: Path, config: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(config)
    fake = tmp_path / "fake-haproxy"
    fake.write_text('#!/bin/sh\necho "$0 $*"\n')
    fake.chmod(stat.S_IRWXU)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", SHIM, "-db", "-f", str(cfg), "-sf", "42"],
        env={**os.environ, REAL_BINARY_ENV: str(fake), **env},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_shim_rewrites_then_execs_the_binary_with_the_same_arguments(
    tmp_path: Path, rendered: str
) -> None:
    done = _run_shim(tmp_path, rendered, {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{tmp_path}/fake-haproxy -db -f {tmp_path}/haproxy.cfg -sf 42"
    assert exposed((tmp_path / "haproxy.cfg").read_text()) == []


def test_shim_refuses_an_unexpected_public_bind(tmp_path: Path) -> None:
    done = _run_shim(tmp_path, "frontend x\n    bind 10.0.0.5:9999\n", {})
    assert done.returncode == EX_CONFIG
    assert "refusing to listen on 10.0.0.5:9999" in done.stderr
    assert done.stdout == ""  # the binary never started
