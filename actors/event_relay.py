"""Event relay actors: durable JetStream pull consumers that feed tenant host actors.

Every message is acknowledged only after its handler succeeded. A failure is redelivered by
JetStream after an exponential, jittered delay (``nak(delay)``); when the plugin's attempts are
used up, or the error is permanent, the message goes to the dead-letter stream with its last
error and is terminated. Several relays may share one durable consumer (work is split). What a
relay dispatches at once is bounded, and smaller while ingress replicas report that their ingest
is under pressure (actors/pacing.py): dispatch yields to clients waiting for their 202.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import ray
from prometheus_client.metrics_core import Metric

from actors.handles import TenantClient
from actors.host.backends import purge_settled_effects
from actors.pacing import Pacer, pressure_subject
from actors.priority import lower_priority, share_priority
from actors.relay_work import RelayWork
from core.bus import RELAYED_MAX_AGE_DAYS, Bus
from core.db import Database
from core.endpoints import database_url, nats_url
from core.logging import configure_logging
from core.settings import load_settings
from core.webhooks.deliveries import DEAD_LETTER_REPLAY_DAYS, DeliveryStore

log = logging.getLogger(__name__)

# Messages one stream's consumer handles at once: bounded so a backlog queues in JetStream
# (max_ack_pending 1000) rather than as thousands of tasks waiting on the 10-connection pool.
MAX_IN_FLIGHT = 64
# Up to all of them in one fetch: a webhook batch costs a few statements and one tenant-host call
# whatever its size, so under load larger batches cost less per webhook (issue #19: 32 -> 64,
# with the linger 60 -> 150 ms, cut the whole service's CPU per generic webhook by about 0.4 ms).
FETCH_BATCH = MAX_IN_FLIGHT
UNSETTLED_RETRY_S = 2.0
# Plans made for each execution, with the actual ids: the relay's statements pick a batch of
# deliveries by id among a tenant's ever-growing rows, and the generic plan asyncpg's prepared
# statements fall back to, made while the table was small, walks all of the tenant's rows on
# every batch (seen growing from 0.3 to 5 ms per statement within minutes). Planning costs less.
RELAY_SESSION = {"plan_cache_mode": "force_custom_plan"}


async def keep_alive(msgs: list[Any], every_s: float) -> None:
    """Tell JetStream every ``every_s`` that these messages are still being worked on (until
    cancelled).

    Under overload a batch can wait behind others (PostgreSQL's pool, the tenant host) for
    longer than the consumer's ack wait: JetStream must not redeliver work still in hand, or the
    copy queues behind the original and the backlog doubles.
    """
    while True:
        await asyncio.sleep(every_s)
        for msg in msgs:
            with contextlib.suppress(Exception):  # settled meanwhile: nothing to extend
                await msg.in_progress()


@ray.remote(num_cpus=0.05, max_restarts=-1, max_task_retries=0, max_concurrency=64)  # type: ignore[call-overload]
class EventRelay:
    """Consumes the WEBHOOKS and EVENTS streams of one namespace."""

    def __init__(self, index: int, spawn_host: Callable[[int], Any] | None = None) -> None:
        self.index = index
        self.settings = load_settings()
        configure_logging(self.settings.log_level)
        lower_priority(self.settings.ray.dispatch_nice)
        self.bus = Bus(nats_url(self.settings), self.settings.nats)
        db = Database(
            database_url(self.settings), self.settings.database, server_settings=RELAY_SESSION,
            on_connect=share_priority if self.settings.ray.dispatch_nice > 0 else None,
        )  # fmt: skip
        self.work = RelayWork(
            self.settings,
            self.bus,
            DeliveryStore(db),
            # ``actors.spawn`` passes how to create a missing tenant host (else: looked up)
            TenantClient(self.settings.ray.namespace, self.settings.ray.tenant_hosts, spawn_host),
        )
        # bounds what this relay dispatches at once while ingress replicas report pressure
        self.pacer = Pacer(yield_ms=self.settings.webhooks.dispatch_yield_ms)
        self._tasks: list[asyncio.Task[None]] = []
        self.processed = 0
        self.errors = 0

    async def start(self) -> bool:
        """Start consuming (idempotent)."""
        if not self._tasks:
            self._tasks = [
                # webhooks: each fetched batch at once (grouped per tenant); events: one by one
                # (one event may fan out to several instances)
                asyncio.create_task(self._consume("WEBHOOKS", self.work.handle_webhooks)),
                asyncio.create_task(self._consume("EVENTS", self._event, one_by_one=True)),
            ]
            if self.pacer.yield_ms:
                self._tasks.append(asyncio.create_task(self._listen_to_ingest()))
            if self.index == 0:
                self._tasks.append(asyncio.create_task(self._purge_forever()))
        return True

    async def _consume(self, stream: str, handler: Any, *, one_by_one: bool = False) -> None:
        """Fetch and handle messages forever, surviving NATS outages.

        Fetching does not wait for the previous batch to finish (one slow handler would hold
        back every message behind it): up to MAX_IN_FLIGHT messages are handled at once, each
        still acknowledged only after its own handler succeeded.
        """
        in_flight: dict[asyncio.Task[None], int] = {}  # task -> messages it settles
        linger_s = self.settings.webhooks.dispatch_linger_ms / 1000
        while True:
            try:
                sub = await self.work.subscribe(stream)
                while True:
                    pause = self.pacer.next_pause() if self.pacer.yield_ms else 0.0
                    if pause:
                        await asyncio.sleep(pause)  # ingest under pressure: fetch less often
                    while sum(in_flight.values()) >= MAX_IN_FLIGHT:
                        await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    room = min(FETCH_BATCH, MAX_IN_FLIGHT - sum(in_flight.values()))
                    try:
                        msgs = await sub.fetch(room, timeout=1.0)
                    except TimeoutError:
                        continue
                    for batch in [[msg] for msg in msgs] if one_by_one else [msgs]:
                        task = asyncio.create_task(self._batch(handler, batch))
                        in_flight[task] = len(batch)
                        task.add_done_callback(lambda t: in_flight.pop(t, None))
                    if len(msgs) < room and linger_s:
                        await asyncio.sleep(linger_s)  # let the next batch fill up a little
            except asyncio.CancelledError:
                for task in list(in_flight):
                    task.cancel()
                raise
            except Exception as err:  # noqa: BLE001 - boundary: log, back off, resubscribe
                self.errors += 1
                log.warning("relay %s on %s: %r; resubscribing", self.index, stream, err)
                await asyncio.sleep(1.0)

    async def _listen_to_ingest(self) -> None:
        """Feed the pacer the ingress replicas' pressure reports (core NATS, see pacing.py)."""
        while True:
            try:
                nc = await self.bus.connect()
                subject = pressure_subject(self.settings.nats.namespace)
                await nc.subscribe(subject, cb=self._heard)  # kept across reconnects by nats-py
            except Exception as err:  # noqa: BLE001 - boundary: unpaced until it works
                log.warning("relay %s: no ingest pressure reports (%r); retrying", self.index, err)
                await asyncio.sleep(1.0)
            else:
                return

    async def _heard(self, msg: Any) -> None:
        self.pacer.heard(msg.data)

    async def _purge_forever(self) -> None:
        """Drop delivery records past the de-duplication window and plugins' effect-ledger
        entries no redelivery can need any more (hourly)."""
        days = self.settings.webhooks.dedup_window_days
        # a delivery comes back at most this late: a repeat, a retry, a replay
        effects_days = max(days, DEAD_LETTER_REPLAY_DAYS, RELAYED_MAX_AGE_DAYS)
        while True:
            try:
                removed = await self.work.deliveries.purge_older_than(days)
                if removed:
                    log.info("purged %d old delivery records", removed)
                effects = await purge_settled_effects(self.work.deliveries.db, effects_days)
                if effects:
                    log.info("purged %d old effect-ledger entries", effects)
            except Exception as err:  # noqa: BLE001 - retried next hour
                log.warning("purging delivery records failed: %r", err)
            await asyncio.sleep(3600)

    async def _event(self, msgs: list[Any]) -> None:
        [msg] = msgs
        await self.work.handle_event(msg)

    async def _batch(self, handler: Any, msgs: list[Any]) -> None:
        alive = asyncio.create_task(keep_alive(msgs, max(1.0, self.work.ack_wait_s / 3)))
        try:
            await handler(msgs)
            self.processed += len(msgs)
        except Exception:  # noqa: BLE001 - one bad batch must not stop the consumer
            self.errors += 1
            log.exception("relay %s could not settle %d message(s)", self.index, len(msgs))
            # e.g. PostgreSQL restarting: try again soon rather than after the whole ack_wait;
            # a message already settled refuses the nak (suppressed)
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.nak(delay=UNSETTLED_RETRY_S)
        finally:
            alive.cancel()

    def metric_families(self) -> list[Metric]:
        """This relay's metric families (outcomes, queue lag, retries, dead letters)."""
        return list(self.work.registry.collect())

    def stats(self) -> dict[str, Any]:
        return {
            "index": self.index, "processed": self.processed, "errors": self.errors,
            "dispatch_pause_ms": round(self.pacer.pause_s * 1e3), "paced": self.pacer.paced,
        }  # fmt: skip
