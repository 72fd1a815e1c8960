"""An isolated ``dcoder-integrations up`` for a benchmark: fresh data dir, free ports, own keys.

The service runs as subprocesses started through the CLI, so it is exactly what users run. It is
always stopped with ``down`` (same environment); anything of this run still alive afterwards is
stopped by pid, found through the run's unique ``DCODER_DATA_DIR``. Nothing else is touched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from core.embedded import stop_pid
from core.endpoints import database_url, nats_url
from core.paths import PROJECT_ROOT
from core.settings import Settings
from serve_app.launcher.data_plane import loopback_port

CLI = str(Path(sys.executable).parent / "dcoder-integrations")
UP_TIMEOUT_S = 240
# Env that would point `up` at shared servers or at another run's data.
STRIPPED_PREFIXES = ("RAY_SERVE_", "DCODER_", "RAY_ADDRESS")


def port() -> int:
    """A free loopback port outside the ranges Ray hands out itself."""
    return loopback_port()


@dataclass
class Service:
    """A running isolated service: its settings, env, operator key and URLs."""

    settings: Settings
    env: dict[str, str]
    operator_key: str
    cold_s: float = 0.0
    left_running: list[str] = field(default_factory=list)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.settings.http.port}"

    @property
    def database_url(self) -> str:
        return database_url(self.settings)

    @property
    def nats_url(self) -> str:
        return nats_url(self.settings)

    @property
    def ray_address(self) -> str:
        return f"127.0.0.1:{self.settings.ray.head_port}"

    def operator(self, timeout_s: float = 60.0) -> httpx.Client:
        """An HTTP client authenticated as the operator."""
        auth = {"Authorization": f"Bearer {self.operator_key}"}
        return httpx.Client(base_url=self.api, headers=auth, timeout=timeout_s)


def _env(data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIPPED_PREFIXES)}
    env.update(
        DCODER_DATA_DIR=str(data_dir),
        DCODER_HTTP_PORT=str(port()),
        DCODER_RAY_DASHBOARD_PORT=str(port()),
        DCODER_RAY_HEAD_PORT=str(port()),
        DCODER_NATS_EMBEDDED_PORT=str(port()),
        DCODER_DATABASE_EMBEDDED_PORT=str(port()),
        DCODER_OPERATOR_KEY="op-" + secrets.token_urlsafe(24),
        # HAProxy's backup server is the head's Serve proxy on this port (default 8500 for every
        # cluster, bound with SO_REUSEPORT): with other services on the host, a request HAProxy
        # falls back with could be answered by another cluster (seen: 401s on a fresh `up`).
        RAY_SERVE_FALLBACK_PROXY_HTTP_PORT=str(port()),
        RAY_SERVE_FALLBACK_PROXY_GRPC_PORT=str(port()),
        **extra,
    )
    return env


def _settings(env: dict[str, str]) -> Settings:
    return Settings(
        data_dir=Path(env["DCODER_DATA_DIR"]),
        http={"port": int(env["DCODER_HTTP_PORT"])},
        nats={"embedded_port": int(env["DCODER_NATS_EMBEDDED_PORT"])},
        database={"embedded_port": int(env["DCODER_DATABASE_EMBEDDED_PORT"])},
        ray={
            "head_port": int(env["DCODER_RAY_HEAD_PORT"]),
            "dashboard_port": int(env["DCODER_RAY_DASHBOARD_PORT"]),
            "tenant_hosts": int(env.get("DCODER_RAY_TENANT_HOSTS", "2")),
        },
    )


def started_by(data_dir: Path) -> set[int]:
    """Everything `up` spawned: processes whose environment carries this run's data dir, and
    their descendants (Ray's agents retitle themselves, which overwrites the environment that
    /proc shows, so only their parentage tells they belong to this run)."""
    found = set()
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if proc.environ().get("DCODER_DATA_DIR") == str(data_dir):
                found.add(proc.pid)
                found.update(child.pid for child in proc.children(recursive=True))
    return found


def _snapshot(data_dir: Path) -> list[psutil.Process]:
    """This run's processes now (a process handle also notices a pid reused later)."""
    procs = []
    for pid in started_by(data_dir):
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    return procs


def _alive(procs: list[psutil.Process]) -> set[int]:
    alive = set()
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.add(proc.pid)
    return alive


def _reap(data_dir: Path, before_down: list[psutil.Process], grace_s: float = 15.0) -> list[str]:
    """Wait for this run's processes to exit after ``down``; stop and name any that do not.

    ``before_down`` covers processes that no longer show they belong to the run once their
    parent is gone (orphans of a stopped raylet).
    """
    deadline = time.monotonic() + grace_s
    while True:
        left = started_by(data_dir) | _alive(before_down)
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    named = []
    for pid in sorted(left):
        with contextlib.suppress(psutil.Error):
            named.append(f"{psutil.Process(pid).name()} ({pid})")
        stop_pid(pid, timeout_s=5.0)
    return named


@contextlib.contextmanager
def isolated_service(
    extra_env: dict[str, str] | Callable[[Path], dict[str, str]] | None = None,
) -> Iterator[Service]:
    """A cold ``up`` in a fresh short data dir on free ports; ``down`` on exit, always.

    ``extra_env`` may be a function of the run's data dir (for paths that must live inside it).
    """
    data_dir = Path(tempfile.mkdtemp(prefix="dcs-", dir="/tmp"))
    extra = extra_env(data_dir) if callable(extra_env) else (extra_env or {})
    env = _env(data_dir, extra)
    service = Service(_settings(env), env, env["DCODER_OPERATOR_KEY"])
    try:
        started = time.monotonic()
        done = subprocess.run(  # noqa: S603
            [CLI, "up", "--timeout", str(UP_TIMEOUT_S)], env=env, cwd=PROJECT_ROOT,
            capture_output=True, text=True, timeout=UP_TIMEOUT_S + 60, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"up failed ({done.returncode}): {done.stderr[-1500:]}")
        service.cold_s = time.monotonic() - started
        yield service
    finally:
        before_down = _snapshot(data_dir)
        subprocess.run(  # noqa: S603
            [CLI, "down"], env=env, cwd=PROJECT_ROOT, capture_output=True, timeout=120, check=False
        )
        service.left_running = _reap(data_dir, before_down)
        shutil.rmtree(data_dir, ignore_errors=True)
