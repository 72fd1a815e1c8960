"""HAProxy's own overload counters, read from its admin socket when ``/metrics`` is scraped.

With the HAProxy data plane (serve_app/launcher/haproxy_shim.py) part of an overload is answered
before a request reaches any replica: at the door while the queue for a replica is full (backend
``dcoder_shed``) and after the queue timeout. The replicas never see those requests, so their own
counters cannot show them; HAProxy's statistics (``show stat`` on the admin socket Serve gives it,
owner-only) do. Each scrape reads the sockets of this node; on a cluster every node's HAProxy is
read by the replicas of that node.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import os
from pathlib import Path

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from serve_app.launcher.haproxy_shim import SHED_BACKEND

log = logging.getLogger(__name__)

SOCKET_ENV = "RAY_SERVE_HAPROXY_SOCKET_PATH"
"""Set by `up` (serve_app/launcher/data_plane.py); Serve puts the socket at
``<its directory>/<node id>/admin.sock``."""
READ_TIMEOUT_S = 1.0
# Proxies of the template that are not an application's backend.
_NOT_APPS = {"prometheus", "http_frontend", "stats", "default_backend", SHED_BACKEND}


class Complaints:
    """Warn once when an HAProxy socket stops answering, once more when it answers again.

    ``/metrics`` and the Retry-After steering (serve_app/retry_window.py, every second) read the
    sockets over and over: a socket that stays unreadable (HAProxy restarting, or gone) would
    otherwise write the same warning every second for as long as it lasts.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self.failing: set[Path] = set()

    def failed(self, path: Path, err: BaseException) -> None:
        if path in self.failing:
            log.debug("%s still unavailable at %s: %r", self.what, path, err)
            return
        self.failing.add(path)
        log.warning("%s unavailable at %s: %r (said once until it answers again)", self.what,
                    path, err)  # fmt: skip

    def answered(self, path: Path) -> None:
        if path in self.failing:
            self.failing.discard(path)
            log.info("%s available again at %s", self.what, path)


_stat_complaints = Complaints("HAProxy statistics")


def admin_sockets(env: dict[str, str] | None = None) -> list[Path]:
    """The admin sockets of the HAProxy processes of this node (none without HAProxy)."""
    configured = (os.environ if env is None else env).get(SOCKET_ENV)
    if not configured:
        return []
    root = Path(configured).parent
    return sorted(p for p in root.glob("*/admin.sock") if p.is_socket())


async def admin_command(path: Path, command: str, timeout_s: float = READ_TIMEOUT_S) -> str:
    """Send one command line to an HAProxy admin socket; its whole answer."""

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_unix_connection(str(path))
        try:
            writer.write(command.encode() + b"\n")
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()

    return (await asyncio.wait_for(exchange(), timeout_s)).decode()


async def show_stat(path: Path, timeout_s: float = READ_TIMEOUT_S) -> list[dict[str, str]]:
    """``show stat`` of one HAProxy: one dict per proxy and server row."""
    raw = await admin_command(path, "show stat", timeout_s)
    return list(csv.DictReader(io.StringIO(raw.removeprefix("# "))))


class DoorCounters:
    """A collector of what HAProxy answered or holds itself, summed over this node's sockets."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.shed = self.gave_up = self.queued = 0.0
        for row in rows:
            if row.get("svname") != "BACKEND":
                continue
            name = row.get("pxname", "")
            if name == SHED_BACKEND:
                self.shed += _number(row.get("stot"))
            elif name not in _NOT_APPS:
                self.gave_up += _number(row.get("econ"))
                self.queued += _number(row.get("qcur"))

    def collect(self) -> list[Metric]:
        return [
            CounterMetricFamily(
                "dcoder_http_shed", "Requests HAProxy answered 503 at once because the queue for "
                "a replica was full (DCODER_HTTP_QUEUE_MAX)", value=self.shed,
            ),
            CounterMetricFamily(
                "dcoder_http_queue_gave_up", "Requests HAProxy answered 503 after waiting "
                "DCODER_HTTP_QUEUE_TIMEOUT_MS for a replica, or could not connect to one",
                value=self.gave_up,
            ),
            GaugeMetricFamily(
                "dcoder_http_queued", "Requests waiting in HAProxy's queue for a replica now",
                value=self.queued,
            ),
        ]  # fmt: skip


def _number(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


async def door_counters(env: dict[str, str] | None = None) -> DoorCounters | None:
    """This node's HAProxy counters; None without the HAProxy data plane (best effort)."""
    sockets = admin_sockets(env)
    if not sockets:
        return None
    rows: list[dict[str, str]] = []
    for path in sockets:
        try:
            rows += await show_stat(path)
        except (OSError, TimeoutError, ValueError) as err:
            _stat_complaints.failed(path, err)
        else:
            _stat_complaints.answered(path)
    return DoorCounters(rows)
