"""Deliveries kept while their instance needs re-authorization (table ``held_deliveries``).

When a plugin's credentials are refused, its instance goes to ``needs_reauth`` and the relay hands
each of its deliveries here instead of retrying or dead-lettering it: the bus message is kept and
the delivery shows ``retrying`` with the reason. A new authorization takes them all back
(``take_all``, in the transaction that sets the instance's state) and republishes them.

Holding and taking back serialize on the instance's row: ``hold`` reads the state ``FOR SHARE``,
the resume updates it, so a delivery is never held after its instance was resumed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from core.db import Database
from core.instances import InstanceStore
from core.webhooks.deliveries import DeliveryStore

NEEDS_REAUTH = "needs_reauth"


@dataclass(frozen=True)
class HeldDelivery:
    """One kept bus message."""

    id: str
    delivery_id: str
    subject: str
    payload: bytes
    headers: dict[str, str]


class HeldDeliveries:
    """Keeps and gives back deliveries of instances in ``needs_reauth``; scoped by tenant."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def hold(
        self,
        tenant_id: str,
        instance_id: str,
        delivery_id: str,
        message: tuple[str, bytes, Mapping[str, str]],
        error: str,
    ) -> bool:
        """Keep ``message`` (subject, payload, headers); False when the instance no longer waits
        for re-authorization (then the caller retries the delivery as usual)."""
        subject, payload, headers = message
        async with self.db.transaction() as conn:
            state = await InstanceStore(self.db).state_for_share(conn, tenant_id, instance_id)
            if state != NEEDS_REAUTH:
                return False
            await conn.execute(
                "INSERT INTO held_deliveries (id, delivery_id, tenant_id, instance_id, subject,"
                " payload, headers) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
                " ON CONFLICT (delivery_id) DO NOTHING",
                str(uuid.uuid4()), delivery_id, tenant_id, instance_id, subject, payload,
                json.dumps(dict(headers)),
            )  # fmt: skip
            await DeliveryStore(self.db).mark_held(conn, tenant_id, delivery_id, error)
        return True

    async def take_all(
        self, conn: asyncpg.Connection, tenant_id: str, instance_id: str
    ) -> list[HeldDelivery]:
        """Remove and return the instance's kept messages, oldest first (caller's transaction)."""
        rows = await conn.fetch(
            "DELETE FROM held_deliveries WHERE tenant_id = $1 AND instance_id = $2"
            " RETURNING id, delivery_id, subject, payload, headers, held_at",
            tenant_id, instance_id,
        )  # fmt: skip
        rows = sorted(rows, key=lambda r: r["held_at"])
        return [
            HeldDelivery(r["id"], r["delivery_id"], r["subject"], bytes(r["payload"]),
                         json.loads(r["headers"]))
            for r in rows
        ]  # fmt: skip

    async def count(self, tenant_id: str, instance_id: str) -> int:
        """How many deliveries the instance has kept."""
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM held_deliveries WHERE tenant_id = $1 AND instance_id = $2",
                tenant_id,
                instance_id,
            )  # fmt: skip
        )
