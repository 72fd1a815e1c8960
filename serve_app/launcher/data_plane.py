"""Which data plane carries HTTP to the Ingress replicas: HAProxy (default) or Serve's proxy.

Both are Ray Serve's own. With ``haproxy`` Serve runs HAProxy in front of the replicas, which then
answer HTTP themselves (direct ingress): one hop instead of the Python proxy's actor call per
request — see docs/performance.md for what each costs. The variables below are read by Serve's
processes, which inherit them from `ray start`, so they go into the head's environment. Every
file of HAProxy lives in ``<data dir>/haproxy`` (mode 0700; a short private dir in /tmp when
the data dir's path is too long for a Unix socket) and HAProxy starts through
:mod:`serve_app.launcher.haproxy_shim`, which keeps its stats and metrics listeners on loopback
and bounds the wait in front of a replica (``limits.json``: ``DCODER_HTTP_REPLICA_MAXCONN``,
``DCODER_HTTP_QUEUE_TIMEOUT_MS``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shlex
import shutil
import socket
import stat
import sys
from pathlib import Path

from core.embedded import free_port
from core.errors import DependencyUnavailable
from core.settings import Settings
from serve_app.launcher import haproxy_shim

SHIM_NAME = "haproxy"
# Ports Ray and Serve hand out themselves (workers, direct-ingress HTTP and gRPC): never take one.
_RAY_RANGES = (range(10002, 20000), range(30000, 31001), range(40000, 41001))
_EPHEMERAL = "/proc/sys/net/ipv4/ip_local_port_range"
_LOWEST = 20000
"""Ports below this are left alone (well-known and registered services' ports)."""
# HAProxy refuses Unix socket paths over 97 bytes; Serve puts its sockets in a sub-directory
# named after the node id (56 hex digits): <dir>/<node id>/metrics.sock.
_SOCKET_PATH_MAX = 97
_SOCKET_SUFFIX = 1 + 56 + 1 + len("metrics.sock")


def haproxy_dir(settings: Settings) -> Path:
    """``<data dir>/haproxy``, or a short private dir in /tmp when that path is too long."""
    preferred = settings.data_dir / "haproxy"
    if len(str(preferred)) + _SOCKET_SUFFIX <= _SOCKET_PATH_MAX:
        return preferred
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:10]
    return Path("/tmp") / f"dch-{digest}"  # noqa: S108 - created 0700, its owner checked


def _private_dir(path: Path) -> Path:
    """Create ``path`` mode 0700 (or accept it if it is ours and private)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise DependencyUnavailable(f"{path} exists and is not a directory of this user")
    os.chmod(path, 0o700)  # the admin socket inside is reachable by its owner only
    return path


def ephemeral_ports() -> range:
    """The kernel's range for the local ports of outgoing connections."""
    try:
        low, high = (int(n) for n in Path(_EPHEMERAL).read_text().split())
    except (OSError, ValueError):  # not Linux: the IANA range
        return range(49152, 65536)
    return range(low, high + 1)


def loopback_port() -> int:
    """A free loopback port outside the ranges Ray, Serve and the kernel hand out themselves.

    A port the kernel picks for ``bind(0)`` lies in its ephemeral range, where every outgoing
    connection takes its local port too: between choosing the port and the server binding it
    (an `up` takes tens of seconds) a connection could take it, and HAProxy's listener then
    failed with "Address already in use" (seen once in the test suite).
    """
    avoid = (*_RAY_RANGES, ephemeral_ports())
    for _ in range(1000):
        port = random.randrange(_LOWEST, 65536)  # noqa: S311 - not a secret
        if any(port in span for span in avoid):
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # taken
        return port
    return free_port()  # every port tried was taken: the kernel's choice


def write_limits(root: Path, settings: Settings) -> Path:
    """``<root>/limits.json``: the bounds on the wait in front of a replica, read by the shim."""
    path = root / "limits.json"
    limits = {
        "replica_maxconn": settings.http.replica_maxconn,
        "queue_timeout_ms": settings.http.queue_timeout_ms,
        "queue_max": settings.http.queue_max,
        "retry_after_s": settings.webhooks.overload_retry_after_s,
        "retry_spread_s": settings.webhooks.overload_retry_spread_s,
    }
    return Path(haproxy_shim.write_private(str(path), json.dumps(limits).encode()))


def _write_shim(root: Path, limits: Path) -> Path:
    """The script Serve runs as haproxy; the real binary is the operator's or the wheel's."""
    shim = root / SHIM_NAME
    real = os.environ.get("RAY_SERVE_HAPROXY_BINARY_PATH") or haproxy_shim.real_binary()
    if Path(real).resolve() == shim.resolve():
        real = haproxy_shim.real_binary()  # a previous `up`'s environment named the shim itself
    shim.write_text(
        "#!/bin/sh\n"
        "# Serve starts HAProxy through this file (RAY_SERVE_HAPROXY_BINARY_PATH), see\n"
        "# serve_app/launcher/haproxy_shim.py. Written by `dcoder-integrations up`.\n"
        f"{haproxy_shim.REAL_BINARY_ENV}={shlex.quote(real)} "
        f"{haproxy_shim.LIMITS_ENV}={shlex.quote(str(limits))} "
        f'exec {shlex.quote(sys.executable)} -m {haproxy_shim.MODULE} "$@"\n'
    )
    shim.chmod(0o700)
    return shim


USER_CODE_THREAD = "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD"
HAPROXY_REQUEST_METRICS = "RAY_SERVE_HAPROXY_METRICS_ENABLED"
CONTROL_LOOP = "RAY_SERVE_CONTROL_LOOP_INTERVAL_S"
CONTROL_LOOP_S = "0.5"
"""Serve's controller loop period here (Serve's default 0.1 s; see ``serve_env``)."""


def serve_env(settings: Settings) -> dict[str, str]:
    """Environment for `ray start` that selects and confines the configured data plane.

    Whatever the data plane, the Ingress replica runs our (fully async) request code on its own
    event loop instead of a second one in another thread (one of the settings of Serve's
    throughput-optimised mode): one thread hand-off less per request. Measured in the webhook
    benchmark: p99 at 300 req/s 16-19 ms instead of 40-46, 10-20 % more ingest per CPU
    (docs/performance.md). A value of ``RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD`` already in
    the environment is kept.

    Serve's controller runs its reconciliation loop (autoscaling decisions, replica states,
    routing tables) every ``CONTROL_LOOP_S`` instead of every 0.1 s: on an idle service it was
    the busiest process, about 6 % of a core (issue #19: the whole idle service took 13 % of two
    CPUs). Deploys, scaling and replacing a failed replica react up to 0.4 s later.
    """
    common = {
        USER_CODE_THREAD: os.environ.get(USER_CODE_THREAD, "0"),
        CONTROL_LOOP: os.environ.get(CONTROL_LOOP, CONTROL_LOOP_S),
    }
    if settings.http.data_plane != "haproxy":
        return common
    root = _private_dir(haproxy_dir(settings))
    ports: list[int] = []
    while len(ports) < 4:  # each was free when asked, not necessarily different
        port = loopback_port()
        if port not in ports:
            ports.append(port)
    stats_port, metrics_port, fallback_http, fallback_grpc = ports
    return {
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_HAPROXY_BINARY_PATH": str(_write_shim(root, write_limits(root, settings))),
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(root / "haproxy.cfg"),
        "RAY_SERVE_HAPROXY_SOCKET_PATH": str(root / "admin.sock"),
        "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": str(root / "metrics.sock"),
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": str(root),
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": str(root / "server-state"),
        # HAProxy's own stats page and Prometheus exporter, on loopback (the shim sees to it).
        "RAY_SERVE_HAPROXY_STATS_PORT": str(stats_port),
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(metrics_port),
        "RAY_SERVE_HAPROXY_NBTHREAD": str(settings.http.haproxy_threads),
        # HAProxy's backup server, the head's Serve proxy: it binds with SO_REUSEPORT, so on the
        # default 8500 every cluster of the host shares it and the kernel spreads requests among
        # them (a request answered by another service; docs/performance.md). Ours alone.
        "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT": str(fallback_http),
        "RAY_SERVE_FALLBACK_PROXY_GRPC_PORT": str(fallback_grpc),
        "DCODER_HTTP_HOST": settings.http.host,
        # Serve's per-request HTTP metrics in HAProxy mode: one log datagram per request from
        # HAProxy, parsed in Python by Serve's HAProxyManager actor (about 0.25 ms of CPU per
        # request, 9 % of a core at 360 webhooks/s; issue #19). The replicas count every request
        # themselves (`dcoder_http_requests_total` on /metrics), so it is off unless set.
        HAPROXY_REQUEST_METRICS: os.environ.get(HAPROXY_REQUEST_METRICS, "0"),
        **common,
    }


def cleanup(settings: Settings) -> None:
    """After `down`: remove the /tmp fallback dir (one inside the data dir stays, with its logs)."""
    root = haproxy_dir(settings)
    if root.parent == settings.data_dir or not root.is_dir() or root.is_symlink():
        return
    if root.lstat().st_uid == os.getuid():
        shutil.rmtree(root, ignore_errors=True)
