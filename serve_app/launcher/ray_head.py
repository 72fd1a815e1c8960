"""A local Ray head started by ``up`` and stopped by ``down`` (by pid, never ``ray stop``)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil

from core.embedded.process import pid_alive, port_open, stop_pid
from core.errors import DependencyUnavailable
from core.settings import Settings

RAY_ENV = {  # defaults: the environment of `up` may override them
    # Keep --node-ip-address=127.0.0.1 as given (Ray otherwise swaps in the machine's address).
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    # Ray starts its workers at niceness 15, below every other process of the machine: the
    # ingest replicas then gave the CPU to Ray's own DashboardAgent (its stats pass every 5 s),
    # PostgreSQL, NATS and anything else at 0, and stalled up to 100 ms while they ran (issue
    # #19). At 0 the replicas compete on equal terms; relays, tenant hosts and job tasks still
    # move down by DCODER_RAY_DISPATCH_NICE (actors/priority.py).
    "RAY_worker_niceness": "0",
    # Ray's own metrics pipeline (every worker reports to the node's DashboardAgent every 10 s,
    # which aggregates them for Ray's Prometheus endpoint) cost the agent 0.3-0.6 CPU in bursts
    # that stalled the ingest for up to 100 ms (issue #19). The service exports its own metrics
    # (GET /metrics) and Serve's autoscaling does not use Ray's, so it is off unless `up`'s
    # environment sets RAY_enable_metrics_collection=1 (for Ray's Grafana dashboards).
    "RAY_enable_metrics_collection": "0",
}

AUTH_TOKEN_FILE = "ray-auth-token"
"""The local head's token (dashboard, GCS), in the data dir, mode 0600, made by the first `up`."""


def auth_token_path(settings: Settings) -> Path:
    return settings.data_dir / AUTH_TOKEN_FILE


def ensure_auth_token(settings: Settings) -> Path:
    """Create the local head's token once; `ray start` refuses token mode without one."""
    path = auth_token_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    return path


def auth_env(settings: Settings) -> dict[str, str]:
    """Token auth for clients of our local head; empty for an external cluster (its own setup)."""
    if settings.ray.address:
        return {}
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(auth_token_path(settings))}


def use_auth(settings: Settings) -> None:
    """Make this process a client of our local head (before Ray is first imported)."""
    for key, value in auth_env(settings).items():
        os.environ.setdefault(key, value)


def ray_private_dir(settings: Settings) -> Path:
    """The 0700 folder that holds Ray's temp dir (Ray makes its own folders 0777 inside it)."""
    preferred = settings.data_dir / "ray"
    if len(str(preferred)) <= 38:
        return preferred
    # Unix socket paths must stay short, so fall back to /tmp.
    return Path("/tmp") / f"dcoder-ray-{abs(hash(str(settings.data_dir))) % 10**8}"


def ray_temp_dir(settings: Settings) -> Path:
    """Ray's temp dir for our head, inside `ray_private_dir`."""
    return ray_private_dir(settings) / "t"


def ensure_private_dir(settings: Settings) -> Path:
    """Create (or tighten) the private folder to 0700; refuse one owned by someone else."""
    private = ray_private_dir(settings)
    private.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = private.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise DependencyUnavailable(f"{private} is not a directory owned by this user")
    os.chmod(private, 0o700)
    return private


def head_address(settings: Settings) -> str:
    return f"127.0.0.1:{settings.ray.head_port}"


def _ray_binary() -> str:
    return str(Path(sys.executable).parent / "ray")


def start_head(settings: Settings, env: dict[str, str]) -> str:
    """Start a head node with a ``sandbox`` resource; return its address."""
    if port_open("127.0.0.1", settings.ray.head_port):
        return head_address(settings)
    ensure_private_dir(settings)
    temp_dir = ray_temp_dir(settings)
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
    ensure_auth_token(settings)
    head_env = {
        **RAY_ENV,
        **os.environ,
        **auth_env(settings),
        **env,
        HEAD_MARKER_ENV: str(temp_dir),
    }
    result = subprocess.run(  # noqa: S603
        argv, env=head_env,
        # Ray's logs, sockets and runtime_resources/ are then private to this user.
        umask=0o077,
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
    """Pids of every process of our Ray head (agents and client server included).

    Descendants count too: Ray's agents retitle themselves, which overwrites both the command
    line and the environment that /proc shows, so only their parent tells they are ours.
    """
    marker = str(ray_temp_dir(settings))
    me = os.getpid()
    found: dict[int, None] = {}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if proc.info["pid"] == me or not _ours(proc, marker):
            continue
        found[proc.info["pid"]] = None
        with contextlib.suppress(psutil.Error):
            found.update((child.pid, None) for child in proc.children(recursive=True))
    found.pop(me, None)
    return list(found)


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
