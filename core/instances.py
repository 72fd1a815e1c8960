"""Plugin instances of tenants in PostgreSQL; every query is scoped by tenant id."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from core.db import Database
from core.errors import Conflict, NotFound

_COLUMNS = (
    "id, tenant_id, plugin, version, name, config, state, state_detail, created_at, updated_at"
)


class InstanceRecord(BaseModel):
    """One plugin instance as stored (secrets live elsewhere, encrypted)."""

    id: str
    tenant_id: str
    plugin: str
    version: str
    name: str
    config: dict[str, Any]
    state: str
    state_detail: str | None
    created_at: datetime
    updated_at: datetime


def _record(row: asyncpg.Record) -> InstanceRecord:
    data = dict(row)
    if isinstance(data["config"], str):
        data["config"] = json.loads(data["config"])
    return InstanceRecord(**data)


def new_instance_id() -> str:
    return "i-" + secrets.token_hex(8)


class InstanceStore:
    """Reads and writes of ``plugin_instances``; writes take the caller's connection."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        conn: asyncpg.Connection,
        *,
        instance_id: str,
        tenant_id: str,
        plugin: str,
        version: str,
        name: str,
        config: dict[str, Any],
        state: str,
    ) -> InstanceRecord:
        try:
            row = await conn.fetchrow(
                "INSERT INTO plugin_instances"
                " (id, tenant_id, plugin, version, name, config, state)"
                f" VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING {_COLUMNS}",
                instance_id, tenant_id, plugin, version, name, json.dumps(config), state,
            )  # fmt: skip
        except asyncpg.UniqueViolationError as err:
            raise Conflict(f"tenant already has an instance named {name!r}") from err
        assert row is not None
        return _record(row)

    async def update(
        self,
        conn: asyncpg.Connection,
        tenant_id: str,
        instance_id: str,
        **fields: Any,
    ) -> InstanceRecord:
        """Set some of version, config, state, state_detail."""
        allowed = {"version", "config", "state", "state_detail"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"can only update {sorted(allowed)}")
        sets, args = [], [tenant_id, instance_id]
        for name, value in fields.items():
            args.append(json.dumps(value) if name == "config" else value)
            cast = "::jsonb" if name == "config" else ""
            sets.append(f"{name} = ${len(args)}{cast}")
        row = await conn.fetchrow(
            f"UPDATE plugin_instances SET {', '.join(sets)}, updated_at = now()"
            f" WHERE tenant_id = $1 AND id = $2 RETURNING {_COLUMNS}",
            *args,
        )
        if row is None:
            raise NotFound(f"no instance {instance_id!r}")
        return _record(row)

    async def delete(self, conn: asyncpg.Connection, tenant_id: str, instance_id: str) -> None:
        status = await conn.execute(
            "DELETE FROM plugin_instances WHERE tenant_id = $1 AND id = $2", tenant_id, instance_id
        )
        if status.endswith(" 0"):
            raise NotFound(f"no instance {instance_id!r}")

    async def state_for_share(
        self, conn: asyncpg.Connection, tenant_id: str, instance_id: str
    ) -> str | None:
        """The instance's state, its row locked against changes until the transaction ends."""
        state = await conn.fetchval(
            "SELECT state FROM plugin_instances WHERE id = $1 AND tenant_id = $2 FOR SHARE",
            instance_id, tenant_id,
        )  # fmt: skip
        return None if state is None else str(state)

    async def get(self, tenant_id: str, instance_id: str) -> InstanceRecord:
        row = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM plugin_instances WHERE tenant_id = $1 AND id = $2",
            tenant_id, instance_id,
        )  # fmt: skip
        if row is None:
            raise NotFound(f"no instance {instance_id!r}")
        return _record(row)

    async def list(self, tenant_id: str) -> list[InstanceRecord]:
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM plugin_instances WHERE tenant_id = $1 ORDER BY created_at",
            tenant_id,
        )
        return [_record(r) for r in rows]
