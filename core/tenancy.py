"""Tenants and their API keys. Keys are shown once and stored only as SHA-256 hashes.

Keys are 256-bit random tokens, so a plain SHA-256 is enough (no password-style stretching) and
lets us look a key up by its hash in one indexed query.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

import asyncpg
from pydantic import BaseModel

from core.db import Database
from core.errors import Conflict, NotFound, ValidationFailed

KEY_PREFIX = "dck_"
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class Tenant(BaseModel):
    id: str
    name: str
    created_at: datetime


class ApiKeyInfo(BaseModel):
    """An API key's metadata (never the key)."""

    id: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedKey(BaseModel):
    """A newly issued key: the only time the key itself is returned."""

    id: str
    key: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    key_id = "k_" + secrets.token_hex(6)
    return key_id, KEY_PREFIX + secrets.token_urlsafe(32)


class TenantStore:
    """Tenants and keys in PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, tenant_id: str, name: str) -> tuple[Tenant, IssuedKey]:
        """Create a tenant with its first API key."""
        if not TENANT_ID.match(tenant_id):
            raise ValidationFailed(
                "invalid tenant id",
                errors=[{"pointer": "/id", "detail": "2-63 chars of a-z, 0-9 and '-'"}],
            )
        key_id, key = _new_key()
        try:
            async with self.db.transaction() as conn:
                row = await conn.fetchrow(
                    "INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING id, name, created_at",
                    tenant_id, name,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO tenant_api_keys (id, tenant_id, key_hash) VALUES ($1, $2, $3)",
                    key_id, tenant_id, hash_key(key),
                )  # fmt: skip
        except asyncpg.UniqueViolationError as err:
            raise Conflict(f"tenant {tenant_id!r} already exists") from err
        return Tenant(**dict(row)), IssuedKey(id=key_id, key=key)

    async def get(self, tenant_id: str) -> Tenant:
        row = await self.db.fetchrow(
            "SELECT id, name, created_at FROM tenants WHERE id = $1 AND disabled_at IS NULL",
            tenant_id,
        )
        if row is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        return Tenant(**dict(row))

    async def list_tenants(self) -> list[Tenant]:
        rows = await self.db.fetch(
            "SELECT id, name, created_at FROM tenants WHERE disabled_at IS NULL ORDER BY id"
        )
        return [Tenant(**dict(r)) for r in rows]

    async def delete(self, conn: asyncpg.Connection, tenant_id: str) -> str:
        """Delete a tenant and (by cascade) everything it owns, with the caller's ``conn``;
        return the incarnation that ended (a tenant later created with the same id is a new
        incarnation and sees none of this one's records)."""
        incarnation = await conn.fetchval(
            "DELETE FROM tenants WHERE id = $1 RETURNING incarnation", tenant_id
        )
        if incarnation is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        return str(incarnation)

    async def authenticate(self, key: str) -> str | None:
        """The tenant a live key belongs to, or None."""
        if not key.startswith(KEY_PREFIX):
            return None
        value = await self.db.fetchval(
            "SELECT k.tenant_id FROM tenant_api_keys k JOIN tenants t ON t.id = k.tenant_id"
            " WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND t.disabled_at IS NULL",
            hash_key(key),
        )
        return str(value) if value is not None else None

    async def issue_key(self, tenant_id: str, *, revoke_others: bool = False) -> IssuedKey:
        """A new key for the tenant; with ``revoke_others`` every older key stops working."""
        await self.get(tenant_id)
        key_id, key = _new_key()
        async with self.db.transaction() as conn:
            if revoke_others:
                await conn.execute(
                    "UPDATE tenant_api_keys SET revoked_at = now()"
                    " WHERE tenant_id = $1 AND revoked_at IS NULL",
                    tenant_id,
                )
            await conn.execute(
                "INSERT INTO tenant_api_keys (id, tenant_id, key_hash) VALUES ($1, $2, $3)",
                key_id, tenant_id, hash_key(key),
            )  # fmt: skip
        return IssuedKey(id=key_id, key=key)

    async def keys(self, tenant_id: str) -> list[ApiKeyInfo]:
        rows = await self.db.fetch(
            "SELECT id, created_at, revoked_at FROM tenant_api_keys"
            " WHERE tenant_id = $1 ORDER BY created_at",
            tenant_id,
        )
        return [ApiKeyInfo(**dict(r)) for r in rows]

    async def revoke_key(self, tenant_id: str, key_id: str) -> None:
        status = await self.db.execute(
            "UPDATE tenant_api_keys SET revoked_at = now()"
            " WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
            tenant_id, key_id,
        )  # fmt: skip
        if status.endswith(" 0"):
            raise NotFound(f"no live key {key_id!r}")
