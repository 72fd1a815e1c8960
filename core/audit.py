"""The audit trail: every lifecycle change is a row in ``audit_log`` and an event on NATS."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from core.bus import Bus
from core.db import Database
from core.errors import BusError, DependencyUnavailable
from core.logging import redact

log = logging.getLogger(__name__)


class AuditRecord(BaseModel):
    id: int
    at: datetime
    tenant_id: str | None
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]


class AuditLog:
    """Writes audit rows (inside the caller's transaction) and publishes them once committed."""

    def __init__(self, db: Database, bus: Bus) -> None:
        self.db = db
        self.bus = bus

    async def record(
        self,
        conn: asyncpg.Connection,
        *,
        tenant_id: str | None,
        actor: str,
        action: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Insert one record with ``conn`` (so it commits or rolls back with the change)."""
        safe = redact(details or {})
        row = await conn.fetchrow(
            "INSERT INTO audit_log (tenant_id, actor, action, target, details)"
            " VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING *",
            tenant_id, actor, action, target, json.dumps(safe),
        )  # fmt: skip
        assert row is not None
        data = dict(row)
        data["details"] = (
            json.loads(data["details"]) if isinstance(data["details"], str) else data["details"]
        )
        return AuditRecord(**data)

    async def publish(self, record: AuditRecord) -> None:
        """Publish a committed record; the row stays the source of truth if NATS is down."""
        subject = self.bus.subjects.audit(record.tenant_id or "_operator")
        try:
            await self.bus.publish(
                subject, record.model_dump_json().encode(), msg_id=f"audit-{record.id}"
            )
        except (BusError, DependencyUnavailable) as err:
            log.warning("audit event %s not published: %s", record.id, err.detail)

    async def list(self, tenant_id: str, limit: int = 100) -> list[AuditRecord]:
        rows = await self.db.fetch(
            "SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
            tenant_id, limit,
        )  # fmt: skip
        out = []
        for row in rows:
            data = dict(row)
            if isinstance(data["details"], str):
                data["details"] = json.loads(data["details"])
            out.append(AuditRecord(**data))
        return out
