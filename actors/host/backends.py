"""Service implementations of plugin_sdk's protocols: PostgreSQL store and ledger, NATS events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from core.bus import H_ROUTED, Bus
from core.db import Database
from plugin_sdk.events import Event


class PostgresKeyValueStore:
    """KeyValueStore scoped to one instance (rows in ``instance_kv``)."""

    def __init__(self, db: Database, instance_id: str) -> None:
        self.db = db
        self.instance_id = instance_id

    async def get(self, key: str) -> Any | None:
        raw = await self.db.fetchval(
            "SELECT value FROM instance_kv WHERE instance_id = $1 AND key = $2"
            " AND (expires_at IS NULL OR expires_at > now())",
            self.instance_id, key,
        )  # fmt: skip
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        await self.db.execute(
            "INSERT INTO instance_kv (instance_id, key, value, expires_at)"
            " VALUES ($1, $2, $3::jsonb, CASE WHEN $4::float8 IS NULL THEN NULL"
            " ELSE now() + make_interval(secs => $4::float8) END)"
            " ON CONFLICT (instance_id, key) DO UPDATE"
            " SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at",
            self.instance_id, key, json.dumps(value), ttl_s,
        )  # fmt: skip

    async def delete(self, key: str) -> bool:
        status = await self.db.execute(
            "DELETE FROM instance_kv WHERE instance_id = $1 AND key = $2", self.instance_id, key
        )
        return not status.endswith(" 0")

    async def keys(self, prefix: str = "") -> list[str]:
        rows = await self.db.fetch(
            "SELECT key FROM instance_kv WHERE instance_id = $1 AND starts_with(key, $2)"
            " AND (expires_at IS NULL OR expires_at > now()) ORDER BY key",
            self.instance_id, prefix,
        )  # fmt: skip
        return [r["key"] for r in rows]


class _Coalesced:
    """Claims (or completions) of one ledger issued in the same turn of the event loop, sent as
    one statement: the deliveries of a relay batch run their handlers concurrently, and each
    used to cost its own round trip (and PostgreSQL its own statement) for each step."""

    def __init__(self, flush: Callable[[list[tuple[str, Any]]], Awaitable[set[str]]]) -> None:
        self._flush = flush
        self._waiting: list[tuple[str, Any, asyncio.Future[bool]]] = []
        self._sending: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    async def __call__(self, key: str, value: Any) -> bool:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((key, value, future))
        if len(self._waiting) == 1:
            task = asyncio.get_running_loop().create_task(self._send())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return await future

    async def _send(self) -> None:
        await asyncio.sleep(0)  # one turn: the other handlers of the batch get here too
        batch, self._waiting = self._waiting, []
        try:
            hit = await self._flush([(key, value) for key, value, _ in batch])
        except Exception as err:  # noqa: BLE001 - every caller gets the statement's failure
            for *_, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        except BaseException:
            for *_, future in batch:
                future.cancel()
            raise
        seen: set[str] = set()
        for key, _, future in batch:
            # a key twice in one batch: the first caller has the claim, the second does not
            if not future.done():
                future.set_result(key in hit and key not in seen)
            seen.add(key)


class PostgresEffectLedger:
    """EffectLedger on ``instance_effects``: atomic claims; expired pending claims reclaimable.

    Concurrent claims and completions (a batch of deliveries to this instance) are coalesced
    into one statement each; every key keeps its own outcome.
    """

    def __init__(self, db: Database, instance_id: str) -> None:
        self.db = db
        self.instance_id = instance_id
        self._claims = _Coalesced(self._claim_many)
        self._completions = _Coalesced(self._complete_many)

    async def claim(self, key: str, *, lease_s: float) -> bool:
        return await self._claims(key, lease_s)

    async def _claim_many(self, items: list[tuple[str, Any]]) -> set[str]:
        keys: dict[str, float] = {}
        for key, lease_s in items:
            keys.setdefault(key, float(lease_s))  # once per statement (ON CONFLICT needs it)
        rows = await self.db.fetch(
            "INSERT INTO instance_effects (instance_id, key, status, lease_until)"
            " SELECT $1, t.key, 'pending', now() + make_interval(secs => t.lease_s)"
            " FROM unnest($2::text[], $3::float8[]) AS t(key, lease_s)"
            " ON CONFLICT (instance_id, key) DO UPDATE"
            " SET lease_until = EXCLUDED.lease_until, updated_at = now()"
            " WHERE instance_effects.status = 'pending' AND instance_effects.lease_until < now()"
            " RETURNING key",
            self.instance_id, list(keys), list(keys.values()),
        )  # fmt: skip
        return {row["key"] for row in rows}

    async def complete(self, key: str, result: Any = None) -> None:
        await self._completions(key, json.dumps(result))

    async def _complete_many(self, items: list[tuple[str, Any]]) -> set[str]:
        await self.db.execute(
            "UPDATE instance_effects e SET status = 'done', result = t.result::jsonb,"
            " lease_until = NULL, updated_at = now()"
            " FROM unnest($2::text[], $3::text[]) AS t(key, result)"
            " WHERE e.instance_id = $1 AND e.key = t.key",
            self.instance_id, [key for key, _ in items], [value for _, value in items],
        )  # fmt: skip
        return set()

    async def release(self, key: str) -> None:
        await self.db.execute(
            "DELETE FROM instance_effects WHERE instance_id = $1 AND key = $2"
            " AND status = 'pending'",
            self.instance_id, key,
        )  # fmt: skip

    async def result(self, key: str) -> tuple[bool, Any]:
        row = await self.db.fetchrow(
            "SELECT status, result FROM instance_effects WHERE instance_id = $1 AND key = $2",
            self.instance_id, key,
        )  # fmt: skip
        if row is None or row["status"] != "done":
            return False, None
        return True, None if row["result"] is None else json.loads(row["result"])


async def purge_settled_effects(db: Database, days: int) -> int:
    """Retention over all instances: delete ledger entries settled ``days`` ago or more.

    An entry only has to outlive every redelivery of its delivery: JetStream's retries (at most
    its 7-day ``max_age``), a repeat caught by the deliveries table (``dedup_window_days``) and
    a dead letter's replay (30 days), so the caller passes the longest of those. Entries of an
    instance that keeps deliveries for re-authorization stay (they come back whenever it is
    re-authorized), and so does a claim whose lease has not long expired. Returns rows deleted.
    """
    status = await db.execute(
        """
        DELETE FROM instance_effects e
        WHERE e.updated_at < now() - make_interval(days => $1)
          AND (e.status = 'done' OR e.lease_until < now() - make_interval(days => $1))
          AND NOT EXISTS (SELECT 1 FROM held_deliveries h WHERE h.instance_id = e.instance_id)
        """,
        days,
    )  # fmt: skip
    return int(status.split()[-1])


class NatsEventPublisher:
    """EventPublisher on the EVENTS stream; the event id de-duplicates republishes.

    ``route`` names the instances that consume an event; they travel with it (``H_ROUTED``), so
    an event goes to the tenant's consumers as they are when it is published, and the relay
    dispatches it without asking the tenant host first. An event no instance consumes is not
    stored at all: nothing would ever read it (an instance enabled later does not get events
    published before), and storing it cost a JetStream write, a relay fetch, parse and ack and
    a delete for every webhook of a tenant whose events nobody consumes (issue #19: about a
    tenth of the service's CPU per generic webhook).
    """

    def __init__(
        self, bus: Bus, route: Callable[[Event], Awaitable[list[str]]] | None = None
    ) -> None:
        self.bus = bus
        self.route = route

    async def publish(self, event: Event) -> None:
        subject = self.bus.subjects.event(event.tenant_id, event.subject)
        headers = None
        if self.route is not None:
            routed = await self.route(event)
            if not routed:
                return
            headers = {H_ROUTED: ",".join(routed)}
        await self.bus.publish(
            subject, event.model_dump_json().encode(), msg_id=event.id, headers=headers
        )
