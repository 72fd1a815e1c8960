"""The environment `up` gives Serve for each data plane."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from core.errors import DependencyUnavailable
from core.settings import Settings
from serve_app.launcher.data_plane import (
    _RAY_RANGES,
    CONTROL_LOOP,
    HAPROXY_REQUEST_METRICS,
    USER_CODE_THREAD,
    cleanup,
    ephemeral_ports,
    haproxy_dir,
    loopback_port,
    serve_env,
)


def _settings(data_dir: Path, **http: object) -> Settings:
    return Settings(data_dir=data_dir, http=http)  # type: ignore[arg-type]


def test_haproxy_files_stay_in_a_private_dir_of_the_data_dir() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="d", dir="/tmp"))  # short enough for sockets
    env = serve_env(_settings(data_dir))
    root = data_dir / "haproxy"
    assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    for key in ("CONFIG_FILE_LOC", "SOCKET_PATH", "METRICS_SOCKET_PATH", "SERVER_STATE_FILE"):
        assert Path(env[f"RAY_SERVE_HAPROXY_{key}"]).parent == root
    shim = Path(env["RAY_SERVE_HAPROXY_BINARY_PATH"])
    assert shim.parent == root and os.access(shim, os.X_OK)
    names = ("HAPROXY_STATS_PORT", "HAPROXY_METRICS_PORT", "FALLBACK_PROXY_HTTP_PORT",
             "FALLBACK_PROXY_GRPC_PORT")  # fmt: skip
    ports = {int(env[f"RAY_SERVE_{name}"]) for name in names}
    # Distinct and our own: not Serve's replica ranges, not the fallback proxy's shared 8500.
    assert len(ports) == 4 and not any(30000 <= p <= 31000 or p == 8500 for p in ports)
    cleanup(_settings(data_dir))
    assert root.is_dir()  # inside the data dir it stays (its logs are the operator's)
    shutil.rmtree(data_dir)


def test_the_shim_gets_the_queue_bound_of_the_settings() -> None:
    import json

    data_dir = Path(tempfile.mkdtemp(prefix="d", dir="/tmp"))
    settings = _settings(data_dir, replica_maxconn=5, queue_timeout_ms=1500, queue_max=7)
    env = serve_env(settings)
    limits = data_dir / "haproxy" / "limits.json"
    assert json.loads(limits.read_text()) == {
        "replica_maxconn": 5, "queue_timeout_ms": 1500, "queue_max": 7,
        "retry_after_s": settings.webhooks.overload_retry_after_s,
        "retry_spread_s": settings.webhooks.overload_retry_spread_s,
    }  # fmt: skip
    assert stat.S_IMODE(limits.stat().st_mode) == 0o600
    # The script Serve runs names the file for the shim (the real binary is not reached here).
    script = Path(env["RAY_SERVE_HAPROXY_BINARY_PATH"]).read_text()
    assert f"DCODER_HAPROXY_LIMITS={limits} " in script
    with pytest.raises(ValueError):
        Settings(http={"queue_timeout_ms": 0})  # type: ignore[arg-type]
    shutil.rmtree(data_dir)


def test_a_long_data_dir_moves_sockets_to_a_short_private_dir(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 60) / "data"
    root = haproxy_dir(_settings(deep))
    assert str(root).startswith("/tmp/dch-")
    assert len(f"{root}/{'0' * 56}/metrics.sock") <= 97  # HAProxy's limit for a socket path
    env = serve_env(_settings(deep))
    assert Path(env["RAY_SERVE_HAPROXY_SOCKET_PATH"]).parent == root
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert haproxy_dir(_settings(deep)) == root  # stable for the same data dir
    cleanup(_settings(deep))  # what `down` does
    assert not root.exists()


def test_a_dir_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / ("y" * 60) / "data"
    root = haproxy_dir(_settings(deep))
    root.parent.mkdir(parents=True, exist_ok=True)
    root.unlink(missing_ok=True)
    root.symlink_to(tmp_path)  # e.g. planted by another user
    try:
        with pytest.raises(DependencyUnavailable, match="not a directory of this user"):
            serve_env(_settings(deep))
    finally:
        root.unlink()


def test_the_python_proxy_needs_only_the_replica_and_controller_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(USER_CODE_THREAD, raising=False)
    monkeypatch.delenv(CONTROL_LOOP, raising=False)
    ours = {USER_CODE_THREAD: "0", CONTROL_LOOP: "0.5"}
    assert serve_env(_settings(tmp_path, data_plane="proxy")) == ours
    assert ours.items() <= serve_env(_settings(tmp_path)).items()
    monkeypatch.setenv(USER_CODE_THREAD, "1")  # an operator's own choice is kept
    monkeypatch.setenv(CONTROL_LOOP, "0.1")
    assert serve_env(_settings(tmp_path, data_plane="proxy")) == {
        USER_CODE_THREAD: "1", CONTROL_LOOP: "0.1"
    }  # fmt: skip


def test_serves_per_request_haproxy_log_metrics_are_off_unless_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(HAPROXY_REQUEST_METRICS, raising=False)
    assert serve_env(_settings(tmp_path))[HAPROXY_REQUEST_METRICS] == "0"
    monkeypatch.setenv(HAPROXY_REQUEST_METRICS, "1")
    assert serve_env(_settings(tmp_path))[HAPROXY_REQUEST_METRICS] == "1"


def test_internal_ports_are_chosen_outside_the_kernels_and_rays_ranges() -> None:
    """An outgoing connection takes its local port from the kernel's ephemeral range: a port
    chosen there may be gone by the time the server binds it."""
    ephemeral = ephemeral_ports()
    assert len(ephemeral) > 1000  # read from /proc on Linux
    for _ in range(200):
        port = loopback_port()
        assert port >= 20000 and port not in ephemeral
        assert not any(port in span for span in _RAY_RANGES)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # free when returned
