"""`up` / `status` / `down` as a user runs them: a cold service in a fresh data dir and home."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import httpx
import psutil

from bench.support.service import CLI, isolated_service
from core.paths import PROJECT_ROOT
from core.settings import Settings
from serve_app.launcher.data_plane import haproxy_dir
from serve_app.launcher.ray_head import head_pids, ray_private_dir, ray_temp_dir


def _fresh_home() -> dict[str, str]:
    # A home without ~/.ray: nothing left by an earlier Ray session may make `up` work.
    return {"HOME": tempfile.mkdtemp(prefix="home-", dir="/tmp")}


def _haproxy(settings: Settings) -> list[psutil.Process]:
    mine = str(haproxy_dir(settings) / "")
    return [
        proc
        for proc in psutil.process_iter(["name", "cmdline"])
        if proc.info["name"] == "haproxy" and mine in " ".join(proc.info["cmdline"] or [])
    ]


def _listeners(proc: psutil.Process) -> list[str]:
    return [f"{c.laddr.ip}:{c.laddr.port}" for c in proc.net_connections() if c.status == "LISTEN"]


def test_up_status_down_on_a_fresh_machine() -> None:
    with isolated_service(_fresh_home()) as svc:
        ready = httpx.get(f"{svc.api}/readyz", timeout=10.0)
        assert ready.status_code == 200
        assert ready.json()["components"] == {"nats": "ok", "postgres": "ok", "ray": "ok"}

        token = svc.settings.data_dir / "ray-auth-token"
        assert stat.S_IMODE(token.stat().st_mode) == 0o600
        assert not (Path(svc.env["HOME"]) / ".ray" / "auth_token").exists()

        # Ray makes its own folders 0777: they sit in a 0700 folder, and its files are private.
        assert stat.S_IMODE(ray_private_dir(svc.settings).stat().st_mode) == 0o700
        logs = [p for p in (ray_temp_dir(svc.settings) / "session_latest" / "logs").rglob("*")]
        assert [p for p in logs if p.is_file()]
        assert [p for p in logs if p.is_file() and p.stat().st_mode & 0o077] == []

        status = subprocess.run(  # noqa: S603
            [CLI, "status", "--json"], env=svc.env, cwd=PROJECT_ROOT,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["ready"] is True
        assert report["ray_head_processes"] > 0

        # The dashboard refuses a client without the head's token.
        dashboard = f"http://127.0.0.1:{svc.settings.ray.dashboard_port}/api/serve/applications/"
        assert httpx.get(dashboard, timeout=10.0).status_code in (401, 403)

        # HAProxy (the default data plane) serves the API and keeps everything on loopback.
        haproxy = _haproxy(svc.settings)
        assert haproxy, "no haproxy of this service is running"
        listening = [addr for proc in haproxy for addr in _listeners(proc)]
        assert f"127.0.0.1:{svc.settings.http.port}" in listening
        assert len(listening) >= 3  # API, stats page, Prometheus exporter
        assert all(addr.startswith("127.0.0.1:") for addr in listening), listening
        root = haproxy_dir(svc.settings)
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        sockets = list(root.rglob("admin.sock"))
        assert sockets and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in sockets)
        # Ray's workers start at niceness 0: the ingest replica is not below PostgreSQL, NATS or
        # Ray's own agents; background dispatch moves down by dispatch_nice.
        nice, env = _workers(svc.settings)
        assert nice["ray::ServeReplica:dcoder:Ingress"] == {0}
        assert nice["ray::EventRelay"] == {svc.settings.ray.dispatch_nice}
        # Ray's own metrics pipeline is off (the service exports its own on /metrics)
        assert env["ray::ServeReplica:dcoder:Ingress"].get("RAY_enable_metrics_collection") == "0"
    assert svc.left_running == []
    assert _haproxy(svc.settings) == []


def _workers(settings: Settings) -> tuple[dict[str, set[int]], dict[str, dict[str, str]]]:
    """Of this service's Ray workers, by process title: the niceness of every thread, and the
    environment."""
    nice: dict[str, set[int]] = {}
    envs: dict[str, dict[str, str]] = {}
    for pid in head_pids(settings):
        try:
            proc = psutil.Process(pid)
            title = " ".join(proc.cmdline()).strip()
            if not title.startswith("ray::"):
                continue
            nices = {os.getpriority(os.PRIO_PROCESS, t.id) for t in proc.threads()}
            nice.setdefault(title, set()).update(nices)
            envs[title] = proc.environ()
        except (psutil.Error, ProcessLookupError):
            continue
    return nice, envs
