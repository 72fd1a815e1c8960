"""Service implementations of plugin_sdk's protocols: PostgreSQL store and ledger, NATS events."""

from __future__ import annotations

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


class PostgresEffectLedger:
    """EffectLedger on ``instance_effects``: atomic claims; expired pending claims reclaimable."""

    def __init__(self, db: Database, instance_id: str) -> None:
        self.db = db
        self.instance_id = instance_id

    async def claim(self, key: str, *, lease_s: float) -> bool:
        row = await self.db.fetchrow(
            "INSERT INTO instance_effects (instance_id, key, status, lease_until)"
            " VALUES ($1, $2, 'pending', now() + make_interval(secs => $3::float8))"
            " ON CONFLICT (instance_id, key) DO UPDATE"
            " SET lease_until = EXCLUDED.lease_until, updated_at = now()"
            " WHERE instance_effects.status = 'pending' AND instance_effects.lease_until < now()"
            " RETURNING key",
            self.instance_id, key, lease_s,
        )  # fmt: skip
        return row is not None

    async def complete(self, key: str, result: Any = None) -> None:
        await self.db.execute(
            "UPDATE instance_effects SET status = 'done', result = $3::jsonb, lease_until = NULL,"
            " updated_at = now() WHERE instance_id = $1 AND key = $2",
            self.instance_id, key, json.dumps(result),
        )  # fmt: skip

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


class NatsEventPublisher:
    """EventPublisher on the EVENTS stream; the event id de-duplicates republishes.

    ``route`` names the instances that consume an event; they travel with it (``H_ROUTED``), so
    an event goes to the tenant's consumers as they are when it is published, and the relay
    dispatches it without asking the tenant host first.
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
            headers = {H_ROUTED: ",".join(await self.route(event))}
        await self.bus.publish(
            subject, event.model_dump_json().encode(), msg_id=event.id, headers=headers
        )
