"""The audit trail: every lifecycle change is a row in ``audit_log`` and an event on NATS."""

from __future__ import annotations

import builtins
import json
import logging
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

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
    incarnation: str | None = Field(
        None, description="which incarnation of the tenant id the record belongs to"
    )


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
        incarnation: str | None = None,
    ) -> AuditRecord:
        """Insert one record with ``conn`` (so it commits or rolls back with the change).

        A tenant's record belongs to the tenant's current incarnation unless ``incarnation``
        names one (the deletion of a tenant is recorded under the incarnation it ended).
        """
        safe = redact(details or {})
        row = await conn.fetchrow(
            "INSERT INTO audit_log (tenant_id, actor, action, target, details, incarnation)"
            " VALUES ($1, $2, $3, $4, $5::jsonb,"
            " COALESCE($6, (SELECT incarnation FROM tenants WHERE id = $1))) RETURNING *",
            tenant_id, actor, action, target, json.dumps(safe), incarnation,
        )  # fmt: skip
        assert row is not None
        return _record(row)

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
        """The trail of the tenant's current incarnation only, newest first."""
        rows = await self.db.fetch(
            "SELECT a.* FROM audit_log a JOIN tenants t"
            " ON t.id = a.tenant_id AND t.incarnation = a.incarnation"
            " WHERE a.tenant_id = $1 ORDER BY a.id DESC LIMIT $2",
            tenant_id, limit,
        )  # fmt: skip
        return [_record(row) for row in rows]

    async def search(
        self, tenant_id: str | None = None, *, limit: int = 100, before: int | None = None
    ) -> builtins.list[AuditRecord]:
        """The operator's view: every record (of one tenant id: every incarnation, deletions
        included), newest first; ``before`` pages on by record id."""
        rows = await self.db.fetch(
            "SELECT * FROM audit_log WHERE ($1::text IS NULL OR tenant_id = $1)"
            " AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
            tenant_id, before, limit,
        )  # fmt: skip
        return [_record(row) for row in rows]


def _record(row: asyncpg.Record) -> AuditRecord:
    data = dict(row)
    if isinstance(data["details"], str):
        data["details"] = json.loads(data["details"])
    return AuditRecord(**data)
