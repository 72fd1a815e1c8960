"""A local Ray head started by ``up`` and stopped by ``down`` (by pid, never ``ray stop``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from core.embedded.process import pid_alive, port_open, stop_pid
from core.errors import DependencyUnavailable
from core.settings import Settings

RAY_ENV = {
    # Keep --node-ip-address=127.0.0.1 as given (Ray otherwise swaps in the machine's address).
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    # Token authentication on the dashboard and GCS (Ray keeps the token in ~/.ray/auth_token).
    "RAY_AUTH_MODE": "token",
}


def ray_temp_dir(settings: Settings) -> Path:
    """Ray's temp dir for our head; Unix socket paths must stay short, so fall back to /tmp."""
    preferred = settings.data_dir / "ray"
    if len(str(preferred)) <= 40:
        return preferred
    return Path("/tmp") / f"dcoder-ray-{abs(hash(str(settings.data_dir))) % 10**8}"


def head_address(settings: Settings) -> str:
    return f"127.0.0.1:{settings.ray.head_port}"


def _ray_binary() -> str:
    return str(Path(sys.executable).parent / "ray")


def start_head(settings: Settings, env: dict[str, str]) -> str:
    """Start a head node with a ``sandbox`` resource; return its address."""
    if port_open("127.0.0.1", settings.ray.head_port):
        return head_address(settings)
    temp_dir = ray_temp_dir(settings)
    temp_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        _ray_binary(), "start", "--head", "--node-ip-address=127.0.0.1",
        f"--port={settings.ray.head_port}", f"--temp-dir={temp_dir}",
        # Ray's default 10001 would clash between two heads on one machine.
        f"--ray-client-server-port={settings.ray.head_port + 1}",
        "--dashboard-host=127.0.0.1", f"--dashboard-port={settings.ray.dashboard_port}",
        f"--resources={json.dumps({'sandbox': settings.ray.sandbox_slots})}",
        "--disable-usage-stats",
    ]  # fmt: skip
    if settings.ray.num_cpus:
        argv.append(f"--num-cpus={settings.ray.num_cpus}")
    result = subprocess.run(  # noqa: S603
        argv, env={**os.environ, **RAY_ENV, **env, HEAD_MARKER_ENV: str(temp_dir)},
        capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise DependencyUnavailable(f"ray start failed: {result.stderr.strip()[-800:]}")
    return head_address(settings)


HEAD_MARKER_ENV = "DCODER_RAY_HEAD_OF"
"""Set only in the environment of our `ray start`: every process of that head inherits it."""


def _ours(proc: psutil.Process, marker: str) -> bool:
    """Started by our head: its command line names our temp dir, or it inherited our marker."""
    if marker in " ".join(proc.info["cmdline"] or []):
        return True
    try:
        return proc.environ().get(HEAD_MARKER_ENV) == marker
    except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess, OSError):
        return False


def head_pids(settings: Settings) -> list[int]:
    """Pids of every process of our Ray head (agents and client server included)."""
    marker = str(ray_temp_dir(settings))
    me = os.getpid()
    return [
        proc.info["pid"]
        for proc in psutil.process_iter(["pid", "cmdline"])
        if proc.info["pid"] != me and _ours(proc, marker)
    ]


def stop_head(settings: Settings, timeout_s: float = 20.0) -> int:
    """Stop our head's processes by pid; return how many were running."""
    pids = head_pids(settings)
    for pid in pids:
        try:
            psutil.Process(pid).terminate()
        except psutil.NoSuchProcess:
            continue
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        stop_pid(pid, timeout_s=1.0)
    return len(pids)
