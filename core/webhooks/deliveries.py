"""Delivery records and dead letters in PostgreSQL (tables ``deliveries`` and ``dead_letters``).

A delivery is one webhook (or bus event) on its way to a plugin instance: ``accepted`` at the
ingress, ``processing`` while a handler runs, then ``done``, ``retrying`` (waiting for a delayed
redelivery) or ``dead`` (retries exhausted or a permanent error; a dead letter keeps the message).
The unique ``(tenant, instance, idempotency key)`` is the durable de-duplication record.
Every query names its tenant: one tenant can never read or change another tenant's rows; the one
exception is ``purge_older_than``, the retention job over all tenants.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime

import asyncpg

from core.db import Database
from core.errors import Conflict, NotFound
from core.webhooks.models import (
    DeadLetter,
    DeadLetterKind,
    DeadLetterWithPayload,
    Delivery,
    DeliveryStatus,
)

MAX_LIST = 1000
_OPEN = ("accepted", "processing", "retrying")  # states a handler may still (re)start from


def _dead_letter(row: asyncpg.Record) -> dict[str, object]:
    data = dict(row)
    data["headers"] = json.loads(data["headers"])
    return data


_DL_COLUMNS = (
    "id, delivery_id, tenant_id, instance_id, plugin, kind, headers, last_error, attempts,"
    " dead_at, replayed_at, octet_length(payload) AS payload_bytes"
)


DEAD_LETTER_REPLAY_DAYS = 30
"""Days an unreplayed dead letter can still be replayed (its delivery record is kept meanwhile)."""


class DeliveryStore:
    """Repository of deliveries and dead letters; every method is scoped to one tenant."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record_accepted(
        self,
        tenant_id: str,
        instance_id: str,
        idempotency_key: str,
        *,
        event_key: str | None = None,
        received_at: datetime | None = None,
        delivery_id: str | None = None,
    ) -> tuple[str, bool]:
        """Record an accepted delivery; return ``(delivery_id, is_new)``.

        A repeated idempotency key returns the first delivery's id and ``False``. The plugin name
        comes from the instance row, which must belong to ``tenant_id`` (else NotFound).
        """
        new_id = delivery_id or str(uuid.uuid4())
        for _ in range(3):  # a concurrent first insert may be invisible to this statement
            row = await self.db.fetchrow(
                """
                WITH ins AS (
                    INSERT INTO deliveries (id, tenant_id, instance_id, plugin, idempotency_key,
                                            event_key, status, received_at)
                    SELECT $1, i.tenant_id, i.id, i.plugin, $4, $5, 'accepted',
                           coalesce($6, now())
                    FROM plugin_instances i WHERE i.id = $3 AND i.tenant_id = $2
                    ON CONFLICT (tenant_id, instance_id, idempotency_key) DO NOTHING
                    RETURNING id)
                SELECT id, true AS is_new FROM ins
                UNION ALL
                SELECT id, false FROM deliveries
                WHERE tenant_id = $2 AND instance_id = $3 AND idempotency_key = $4
                LIMIT 1
                """,
                new_id, tenant_id, instance_id, idempotency_key, event_key, received_at,
            )  # fmt: skip
            if row is not None:
                return row["id"], row["is_new"]
            exists = await self.db.fetchval(
                "SELECT 1 FROM plugin_instances WHERE id = $1 AND tenant_id = $2",
                instance_id, tenant_id,
            )  # fmt: skip
            if not exists:
                raise NotFound(f"tenant {tenant_id!r} has no plugin instance {instance_id!r}")
        raise Conflict(f"delivery {idempotency_key[:80]!r} is being recorded concurrently")

    async def get(self, tenant_id: str, delivery_id: str) -> Delivery:
        """One delivery (NotFound when it is not this tenant's)."""
        row = await self.db.fetchrow(
            "SELECT * FROM deliveries WHERE tenant_id = $1 AND id = $2", tenant_id, delivery_id
        )
        if row is None:
            raise NotFound(f"no delivery {delivery_id!r}")
        return Delivery.model_validate(dict(row))

    async def mark_processing(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        """Start an attempt (attempts + 1); ``None`` when already done or dead: skip and ack."""
        return (await self.mark_processing_many(tenant_id, [delivery_id])).get(delivery_id)

    async def mark_processing_many(
        self, tenant_id: str, delivery_ids: list[str]
    ) -> dict[str, Delivery]:
        """Start an attempt of each (attempts + 1) in one statement; the started ones by id.

        Deliveries already done or dead are left alone and missing from the result.
        """
        rows = await self.db.fetch(
            """
            UPDATE deliveries SET status = 'processing', attempts = attempts + 1,
                   started_at = coalesce(started_at, now()), next_attempt_at = NULL
            WHERE tenant_id = $1 AND id = ANY($2::text[]) AND status = ANY($3::text[])
            RETURNING *
            """,
            tenant_id, delivery_ids, list(_OPEN),
        )  # fmt: skip
        started = (Delivery.model_validate(dict(row)) for row in rows)
        return {d.id: d for d in started}

    async def existing(self, tenant_id: str, delivery_ids: list[str]) -> set[str]:
        """Which of these deliveries have a row (whatever their status)."""
        rows = await self.db.fetch(
            "SELECT id FROM deliveries WHERE tenant_id = $1 AND id = ANY($2::text[])",
            tenant_id, delivery_ids,
        )  # fmt: skip
        return {row["id"] for row in rows}

    async def mark_done_many(self, tenant_id: str, delivery_ids: list[str]) -> int:
        """Finish several successfully in one statement; how many were open (not done or dead)."""
        status = await self.db.execute(
            """
            UPDATE deliveries SET status = 'done', finished_at = now(), next_attempt_at = NULL
            WHERE tenant_id = $1 AND id = ANY($2::text[]) AND status = ANY($3::text[])
            """,
            tenant_id, delivery_ids, list(_OPEN),
        )  # fmt: skip
        return int(status.split()[-1])

    async def mark_done(self, tenant_id: str, delivery_id: str) -> bool:
        """Finish successfully; ``False`` when it was not open (already done or dead)."""
        return await self.mark_done_many(tenant_id, [delivery_id]) == 1

    async def mark_retrying(
        self, tenant_id: str, delivery_id: str, error: str, next_at: datetime
    ) -> bool:
        """Record a failed attempt that will be redelivered at ``next_at``."""
        status = await self.db.execute(
            """
            UPDATE deliveries SET status = 'retrying', last_error = $3, next_attempt_at = $4
            WHERE tenant_id = $1 AND id = $2 AND status = ANY($5::text[])
            """,
            tenant_id, delivery_id, error, next_at, list(_OPEN),
        )  # fmt: skip
        return status == "UPDATE 1"

    async def mark_held(
        self, conn: asyncpg.Connection, tenant_id: str, delivery_id: str, reason: str
    ) -> None:
        """Show a delivery kept until its instance is re-authorized (caller's transaction)."""
        await conn.execute(
            "UPDATE deliveries SET status = 'retrying', last_error = $3, next_attempt_at = NULL"
            " WHERE tenant_id = $1 AND id = $2 AND status <> 'done' AND status <> 'dead'",
            tenant_id, delivery_id, reason,
        )  # fmt: skip

    async def mark_dead(
        self,
        tenant_id: str,
        delivery_id: str,
        error: str,
        payload: bytes,
        headers: Mapping[str, str],
        kind: DeadLetterKind,
    ) -> str | None:
        """Mark dead and keep the message as a dead letter, atomically; return the letter's id.

        ``None`` when the delivery was already dead (a redelivery after a crash adds no second
        letter). ``payload`` and ``headers`` are the bus message as published (no credentials).
        """
        letter_id = str(uuid.uuid4())
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                """
                UPDATE deliveries SET status = 'dead', last_error = $3, finished_at = now(),
                       next_attempt_at = NULL
                WHERE tenant_id = $1 AND id = $2 AND status <> 'dead'
                RETURNING instance_id, plugin, attempts
                """,
                tenant_id, delivery_id, error,
            )  # fmt: skip
            if row is None:
                return None
            await conn.execute(
                """
                INSERT INTO dead_letters (id, delivery_id, tenant_id, instance_id, plugin, kind,
                                          payload, headers, last_error, attempts)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
                """,
                letter_id, delivery_id, tenant_id, row["instance_id"], row["plugin"], kind,
                payload, json.dumps(dict(headers)), error, row["attempts"],
            )  # fmt: skip
        return letter_id

    async def list_deliveries(
        self,
        tenant_id: str,
        status: DeliveryStatus | None = None,
        plugin: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Recent deliveries of a tenant, newest first, optionally filtered."""
        rows = await self.db.fetch(
            """
            SELECT * FROM deliveries
            WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
              AND ($3::text IS NULL OR plugin = $3)
              AND ($4::timestamptz IS NULL OR received_at >= $4)
            ORDER BY received_at DESC, id LIMIT $5
            """,
            tenant_id, status, plugin, since, max(1, min(limit, MAX_LIST)),
        )  # fmt: skip
        return [Delivery.model_validate(dict(row)) for row in rows]

    async def list_dead_letters(self, tenant_id: str, limit: int = 100) -> list[DeadLetter]:
        """A tenant's dead letters, newest first, without payloads."""
        rows = await self.db.fetch(
            f"SELECT {_DL_COLUMNS} FROM dead_letters WHERE tenant_id = $1"
            " ORDER BY dead_at DESC, id LIMIT $2",
            tenant_id, max(1, min(limit, MAX_LIST)),
        )  # fmt: skip
        return [DeadLetter.model_validate(_dead_letter(row)) for row in rows]

    async def get_dead_letter(self, tenant_id: str, letter_id: str) -> DeadLetterWithPayload:
        """One dead letter with its payload (NotFound when it is not this tenant's)."""
        row = await self.db.fetchrow(
            f"SELECT {_DL_COLUMNS}, payload FROM dead_letters WHERE tenant_id = $1 AND id = $2",
            tenant_id, letter_id,
        )  # fmt: skip
        if row is None:
            raise NotFound(f"no dead letter {letter_id!r}")
        return DeadLetterWithPayload.model_validate(_dead_letter(row))

    async def mark_replayed(self, tenant_id: str, letter_id: str) -> DeadLetterWithPayload:
        """Mark a dead letter replayed and reopen its delivery (status accepted, attempts 0).

        Call it before republishing the returned payload (with a new ``Nats-Msg-Id``: JetStream
        would drop the original id as a duplicate); if that publish fails, ``mark_dead`` again.
        A letter is replayed once (Conflict after that).
        """
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                f"""
                UPDATE dead_letters SET replayed_at = now()
                WHERE tenant_id = $1 AND id = $2 AND replayed_at IS NULL
                RETURNING {_DL_COLUMNS}, payload
                """,
                tenant_id, letter_id,
            )  # fmt: skip
            if row is None:
                exists = await conn.fetchval(
                    "SELECT 1 FROM dead_letters WHERE tenant_id = $1 AND id = $2",
                    tenant_id, letter_id,
                )  # fmt: skip
                if exists:
                    raise Conflict(f"dead letter {letter_id!r} was already replayed")
                raise NotFound(f"no dead letter {letter_id!r}")
            await conn.execute(
                """
                UPDATE deliveries SET status = 'accepted', attempts = 0, started_at = NULL,
                       finished_at = NULL, next_attempt_at = NULL
                WHERE tenant_id = $1 AND id = $2
                """,
                tenant_id, row["delivery_id"],
            )  # fmt: skip
        return DeadLetterWithPayload.model_validate(_dead_letter(row))

    async def delete_dead_letter(self, tenant_id: str, letter_id: str) -> None:
        """Discard a dead letter (its delivery stays dead); NotFound when not this tenant's."""
        status = await self.db.execute(
            "DELETE FROM dead_letters WHERE tenant_id = $1 AND id = $2", tenant_id, letter_id
        )
        if status != "DELETE 1":
            raise NotFound(f"no dead letter {letter_id!r}")

    async def purge_older_than(
        self, days: int, dead_letter_days: int = DEAD_LETTER_REPLAY_DAYS
    ) -> int:
        """Retention over all tenants: delete finished deliveries received ``days`` ago or more.

        Done deliveries go; dead ones go too unless they hold an unreplayed dead letter younger
        than ``dead_letter_days`` (an operator may still replay it). Returns the rows deleted.
        """
        status = await self.db.execute(
            """
            DELETE FROM deliveries d
            WHERE d.received_at < now() - make_interval(days => $1)
              AND (d.status = 'done' OR (d.status = 'dead' AND NOT EXISTS (
                    SELECT 1 FROM dead_letters l
                    WHERE l.delivery_id = d.id AND l.replayed_at IS NULL
                      AND l.dead_at >= now() - make_interval(days => $2))))
            """,
            days, dead_letter_days,
        )  # fmt: skip
        return int(status.split()[-1])
