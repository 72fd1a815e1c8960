"""`up` / `status` / `down` as a user runs them: a cold service in a fresh data dir and home."""

from __future__ import annotations

import json
import stat
import subprocess
import tempfile
from pathlib import Path

import httpx

from bench.support.service import CLI, isolated_service
from core.paths import PROJECT_ROOT


def _fresh_home() -> dict[str, str]:
    # A home without ~/.ray: nothing left by an earlier Ray session may make `up` work.
    return {"HOME": tempfile.mkdtemp(prefix="home-", dir="/tmp")}


def test_up_status_down_on_a_fresh_machine() -> None:
    with isolated_service(_fresh_home()) as svc:
        ready = httpx.get(f"{svc.api}/readyz", timeout=10.0)
        assert ready.status_code == 200
        assert ready.json()["components"] == {"nats": "ok", "postgres": "ok", "ray": "ok"}

        token = svc.settings.data_dir / "ray-auth-token"
        assert stat.S_IMODE(token.stat().st_mode) == 0o600
        assert not (Path(svc.env["HOME"]) / ".ray" / "auth_token").exists()

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
    assert svc.left_running == []
