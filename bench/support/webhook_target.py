"""What the webhook benchmarks share: the endpoint, the bare baseline server, the relay hold,
the delivery backlog and the processes of a run (bench_webhooks.py and bench_soak.py)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import nats
import numpy as np
import psutil

from bench.support import bare_ingest
from bench.support.cpu import component
from bench.support.service import Service, port, started_by
from core.bus import relay_consumer, stream_name
from core.embedded import EmbeddedPostgres
from core.paths import PROJECT_ROOT
from serve_app.launcher.ray_head import RAY_ENV

# The baseline runs at the niceness `up` gives Ray's workers (the ingress replicas): the same
# priority against PostgreSQL, NATS and anything else on the machine as the service it measures.
RAY_WORKER_NICENESS = int(RAY_ENV["RAY_worker_niceness"])
SERVICE_ENV = {
    # The per-tenant limiter (default 20/s, burst 100) would answer 429s: lift it for the bench.
    "DCODER_WEBHOOKS_RATE_PER_S": "1000000",
    "DCODER_WEBHOOKS_BURST": "1000000",
}
RELAY = "event relay"
DRAIN_TIMEOUT_S = 120.0
DRAIN_STALL_S = 5.0  # rows whose request was cancelled before its publish never start


@dataclass
class Endpoint:
    """The tenant and generic-webhook instance both targets serve."""

    tenant: str
    instance: str
    secret: str

    @property
    def path(self) -> str:
        return f"/v1/webhooks/{self.tenant}/{self.instance}"


def endpoint(svc: Service) -> Endpoint:
    """Create a tenant and an enabled generic-webhook instance through the API."""
    tenant = f"bench-{secrets.token_hex(3)}"
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with svc.operator() as op:
        op.post("/v1/tenants", json={"id": tenant, "name": "webhook bench"}).raise_for_status()
        created = op.post(f"/v1/tenants/{tenant}/plugins", json={
            "plugin": "generic-webhook", "name": "hooks",
            "config": {"event_type": "generic.bench"}, "secrets": {"signing_secret": secret},
        })  # fmt: skip
        created.raise_for_status()
        instance = created.json()["id"]
        op.post(f"/v1/tenants/{tenant}/plugins/{instance}/enable").raise_for_status()
    return Endpoint(tenant, instance, secret)


@contextlib.contextmanager
def bare_server(svc: Service, secret: str) -> Iterator[tuple[str, int]]:
    """The baseline app on one uvicorn worker, on the service's PostgreSQL and NATS."""
    asyncio.run(bare_ingest.prepare(svc.database_url, svc.nats_url))
    listen = port()
    env = {
        **os.environ, "BENCH_DATABASE_URL": svc.database_url, "BENCH_NATS_URL": svc.nats_url,
        "BENCH_SECRET": secret, "PYTHONPATH": str(PROJECT_ROOT),
    }  # fmt: skip
    argv = [
        "nice", "-n", str(RAY_WORKER_NICENESS), sys.executable, "-m", "uvicorn",
        "bench.support.bare_ingest:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(listen), "--workers", "1",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        base = f"http://127.0.0.1:{listen}"
        _wait_listening(base, 60.0)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _wait_listening(base: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{base}/docs", timeout=1.0)
            return
        time.sleep(0.1)
    raise TimeoutError(f"{base} did not start within {timeout_s:.0f}s")


async def _fetchval(database_url: str, query: str, *args: object) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        found: int = await conn.fetchval(query, *args)
        return found
    finally:
        await conn.close()


def pending(svc: Service, tenant: str, prefix: str = "") -> int:
    """Deliveries of ``tenant`` (webhook ids starting ``prefix``) the relay has not started."""
    return asyncio.run(_fetchval(
        svc.database_url,
        "SELECT count(*) FROM deliveries WHERE tenant_id = $1 AND started_at IS NULL"
        " AND idempotency_key LIKE $2", tenant, f"std:{prefix}%" if prefix else "%",
    ))  # fmt: skip


def drain(svc: Service, tenant: str, prefix: str = "") -> float:
    """Wait until the relay has started every delivery it will start; return seconds waited."""
    started = last_change = time.monotonic()
    left = pending(svc, tenant, prefix)
    while left and time.monotonic() - started < DRAIN_TIMEOUT_S:
        time.sleep(0.5)
        now_left = pending(svc, tenant, prefix)
        if now_left != left:
            left, last_change = now_left, time.monotonic()
        elif time.monotonic() - last_change > DRAIN_STALL_S:
            break
    return last_change - started


SETTLE_TIMEOUT_S = float(os.environ.get("BENCH_SETTLE_TIMEOUT_S", "900"))
SETTLE_STALL_S = 120.0
"""Give up when neither JetStream nor the delivery rows moved for this long (reported)."""


@dataclass
class Settled:
    """How the relay's backlog ended: seconds waited, what was left, why the wait ended."""

    seconds: float
    unacked: int
    """Published webhooks and events JetStream still holds for the relays (not yet settled)."""
    open_rows: int
    """Deliveries started and not finished (processing or retrying)."""
    ended: str
    """'settled', or why the wait stopped before (stalled / timed out, with its bound)."""


async def _backlog(svc: Service, tenant: str) -> tuple[int, int, tuple[int, ...]]:
    """(unacked messages, open rows, a progress marker that changes while work is done)."""
    ns = svc.settings.nats.namespace
    nc = await nats.connect(svc.nats_url)
    try:
        js = nc.jetstream()
        unacked, marker = 0, []
        for stream in ("WEBHOOKS", "EVENTS"):
            info = await js.consumer_info(stream_name(ns, stream), relay_consumer(ns, stream))
            unacked += info.num_pending + info.num_ack_pending
            marker += [info.ack_floor.stream_seq, info.delivered.stream_seq, info.num_ack_pending]
    finally:
        await nc.close()
    conn = await asyncpg.connect(svc.database_url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status IN ('processing', 'retrying')) AS open,"
            " count(*) FILTER (WHERE status IN ('done', 'dead')) AS finished"
            " FROM deliveries WHERE tenant_id = $1", tenant,
        )  # fmt: skip
    finally:
        await conn.close()
    return unacked, int(row["open"]), (*marker, int(row["open"]), int(row["finished"]))


def settle(svc: Service, tenant: str) -> Settled:
    """Wait until every published delivery is settled: JetStream holds nothing unacknowledged
    for the relays and no delivery is processing or retrying.

    Rows whose request was cut off before its publish stay ``accepted`` without a message (the
    sender never got a 202 for them, and a retry publishes them): they are not waited for. The
    wait ends early only when nothing moved for SETTLE_STALL_S (JetStream's floors, the rows),
    or after SETTLE_TIMEOUT_S; either is reported, never a silent give-up.
    """
    started = last_change = time.monotonic()
    unacked, open_rows, marker = asyncio.run(_backlog(svc, tenant))
    ended = "settled"
    while unacked or open_rows:
        now = time.monotonic()
        if now - started > SETTLE_TIMEOUT_S:
            ended = f"timed out after {SETTLE_TIMEOUT_S:.0f} s"
            break
        if now - last_change > SETTLE_STALL_S:
            ended = f"stalled: nothing moved for {SETTLE_STALL_S:.0f} s"
            break
        time.sleep(1.0)
        unacked, open_rows, moved = asyncio.run(_backlog(svc, tenant))
        if moved != marker:
            marker, last_change = moved, time.monotonic()
    return Settled(time.monotonic() - started, unacked, open_rows, ended)


async def _lags(database_url: str, tenant: str, prefix: str) -> np.ndarray:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM started_at - received_at)::float8 AS lag FROM deliveries"
            " WHERE tenant_id = $1 AND idempotency_key LIKE $2 AND started_at IS NOT NULL",
            tenant, f"std:{prefix}-%",
        )  # fmt: skip
    finally:
        await conn.close()
    return np.array([r["lag"] for r in rows])


def handler_lags(svc: Service, tenant: str, prefix: str) -> np.ndarray:
    """Seconds from the delivery row's ``received_at`` to its handler's ``started_at``."""
    return asyncio.run(_lags(svc.database_url, tenant, prefix))


def processes(svc: Service, watch: set[int]) -> set[int]:
    """Every process of the run: what `up` started, PostgreSQL's backends, the baseline."""
    pg = EmbeddedPostgres(svc.settings.data_dir / "postgres", svc.settings.database.embedded_port)
    backends: set[int] = set()
    with contextlib.suppress(psutil.Error):
        if pg.pid:
            backends = {pg.pid, *(p.pid for p in psutil.Process(pg.pid).children())}
    return started_by(svc.settings.data_dir) | backends | watch


@contextlib.contextmanager
def relay_held(svc: Service) -> Iterator[None]:
    """The event relay stopped (SIGSTOP) meanwhile: the service then does the baseline's work.

    Accepted deliveries wait durably in JetStream and are dispatched once it continues. The
    tenant hosts keep running (the ingest asks them for instance profiles).
    """
    relays = []
    for pid in started_by(svc.settings.data_dir):
        with contextlib.suppress(psutil.Error):
            if component(psutil.Process(pid)) == RELAY:
                relays.append(pid)
    if not relays:
        raise RuntimeError("no event relay process found to hold")
    for pid in relays:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in relays:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@dataclass
class Drained:
    """How a backlog drained: its size, the seconds until the last change, what was left.

    Rows of requests the load generator cut off at its end before their publish stay behind:
    recorded, never queued, never started (at most one per connection).
    """

    backlog: int
    seconds: float = 0.0
    left: int = 0


def watch_drain(svc: Service, tenant: str, prefix: str) -> tuple[Drained, threading.Thread]:
    """Time the drain of the backlog of ``prefix`` deliveries in a thread (join it to read)."""
    found = Drained(pending(svc, tenant, prefix))

    def run() -> None:
        found.seconds = drain(svc, tenant, prefix)
        found.left = pending(svc, tenant, prefix)

    thread = threading.Thread(target=run, name="drain-watch", daemon=True)
    thread.start()
    return found, thread
