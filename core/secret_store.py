"""Encrypted secrets of plugin instances (table ``instance_secrets``, named only here).

Every value is an AES-GCM blob bound by its AAD to ``tenant/instance/name``, so a blob copied to
another row never decrypts. ``previous_*`` keeps a replaced value for an overlap window (webhook
signing secrets rotate without dropping in-flight deliveries).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import asyncpg

from core.crypto import SecretBox
from core.db import Database
from core.errors import NotFound

_SELECT_FOR_UPDATE = (
    "SELECT name, ciphertext FROM instance_secrets WHERE instance_id = $1 AND name = ANY($2) "
    "FOR UPDATE"
)
_UPSERT = """
INSERT INTO instance_secrets (instance_id, name, ciphertext, key_id)
VALUES ($1, $2, $3, $4)
ON CONFLICT (instance_id, name) DO UPDATE SET
    ciphertext = EXCLUDED.ciphertext,
    key_id = EXCLUDED.key_id,
    previous_ciphertext = NULL,
    previous_key_id = NULL,
    previous_expires_at = NULL,
    updated_at = now()
"""
_REPLACE_KEEPING_PREVIOUS = """
UPDATE instance_secrets SET
    previous_ciphertext = ciphertext,
    previous_key_id = key_id,
    previous_expires_at = now() + make_interval(secs => $5),
    ciphertext = $3,
    key_id = $4,
    updated_at = now()
WHERE instance_id = $1 AND name = $2
"""
_SELECT_OF_TENANT = """
SELECT s.name, s.ciphertext, s.previous_ciphertext,
       s.previous_expires_at IS NOT NULL AND s.previous_expires_at > now() AS previous_valid
FROM instance_secrets s JOIN plugin_instances p ON p.id = s.instance_id
WHERE s.instance_id = $1 AND p.tenant_id = $2
"""
_SELECT_ALL_FOR_UPDATE = """
SELECT s.instance_id, s.name, p.tenant_id, s.ciphertext, s.key_id,
       s.previous_ciphertext, s.previous_key_id
FROM instance_secrets s JOIN plugin_instances p ON p.id = s.instance_id
ORDER BY s.instance_id, s.name
FOR UPDATE OF s
"""


def secret_aad(tenant_id: str, instance_id: str, name: str) -> bytes:
    """The AAD binding a secret's ciphertext to its tenant, instance and name."""
    return f"{tenant_id}/{instance_id}/{name}".encode()


class SecretStore:
    """Reads and writes instance secrets; pass ``conn`` to join the caller's transaction."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    @asynccontextmanager
    async def _tx(self, conn: asyncpg.Connection | None) -> AsyncIterator[asyncpg.Connection]:
        # A caller's connection gets a savepoint (nested transaction) so its transaction decides.
        if conn is None:
            async with self.db.transaction() as own:
                yield own
        else:
            async with conn.transaction():
                yield conn

    async def put(
        self,
        tenant_id: str,
        instance_id: str,
        secrets: Mapping[str, str],
        *,
        overlap_s: int | None = None,
        conn: asyncpg.Connection | None = None,
    ) -> None:
        """Upsert secrets; with ``overlap_s`` a changed value stays readable as previous."""
        async with self._tx(conn) as tx:
            await self._check_owner(tx, tenant_id, instance_id)
            current: dict[str, bytes] = {}
            if overlap_s is not None:
                rows = await tx.fetch(_SELECT_FOR_UPDATE, instance_id, list(secrets))
                current = {row["name"]: bytes(row["ciphertext"]) for row in rows}
            for name, value in secrets.items():
                aad = secret_aad(tenant_id, instance_id, name)
                old = current.get(name)
                if old is not None and self.box.decrypt(old, aad=aad) == value:
                    continue  # unchanged: keep the existing previous value and its expiry
                blob, key_id = self.box.encrypt(value, aad=aad)
                if old is not None:
                    await tx.execute(
                        _REPLACE_KEEPING_PREVIOUS,
                        instance_id, name, blob, key_id, float(overlap_s or 0),
                    )  # fmt: skip
                else:
                    await tx.execute(_UPSERT, instance_id, name, blob, key_id)

    async def get(
        self, tenant_id: str, instance_id: str, *, conn: asyncpg.Connection | None = None
    ) -> dict[str, str]:
        """Current values of an instance's secrets (empty when the instance is not the tenant's)."""
        rows = await self._fetch(conn, _SELECT_OF_TENANT, instance_id, tenant_id)
        return {
            row["name"]: self.box.decrypt(
                bytes(row["ciphertext"]), aad=secret_aad(tenant_id, instance_id, row["name"])
            )
            for row in rows
        }

    async def get_with_previous(
        self,
        tenant_id: str,
        instance_id: str,
        name: str,
        *,
        conn: asyncpg.Connection | None = None,
    ) -> list[str]:
        """The current value, then the previous one while its overlap has not expired."""
        query = _SELECT_OF_TENANT + " AND s.name = $3"
        rows = await self._fetch(conn, query, instance_id, tenant_id, name)
        if not rows:
            return []
        row, aad = rows[0], secret_aad(tenant_id, instance_id, name)
        values = [self.box.decrypt(bytes(row["ciphertext"]), aad=aad)]
        if row["previous_valid"] and row["previous_ciphertext"] is not None:
            values.append(self.box.decrypt(bytes(row["previous_ciphertext"]), aad=aad))
        return values

    async def delete_all(self, instance_id: str, *, conn: asyncpg.Connection | None = None) -> int:
        """Delete every secret of an instance; return how many rows went."""
        query = "DELETE FROM instance_secrets WHERE instance_id = $1"
        status = await (
            conn.execute(query, instance_id) if conn else self.db.execute(query, instance_id)
        )
        return int(status.rsplit(" ", 1)[-1])

    async def _fetch(
        self, conn: asyncpg.Connection | None, query: str, *args: object
    ) -> list[asyncpg.Record]:
        if conn is not None:
            return list(await conn.fetch(query, *args))
        return await self.db.fetch(query, *args)

    @staticmethod
    async def _check_owner(conn: asyncpg.Connection, tenant_id: str, instance_id: str) -> None:
        owner = await conn.fetchval(
            "SELECT tenant_id FROM plugin_instances WHERE id = $1", instance_id
        )
        if owner != tenant_id:
            raise NotFound(f"plugin instance {instance_id!r} not found for tenant {tenant_id!r}")


async def rewrap_all(db: Database, box: SecretBox) -> int:
    """Re-encrypt every ciphertext not under the newest key in one transaction; return the count."""
    async with db.transaction() as conn:
        rows = await conn.fetch(_SELECT_ALL_FOR_UPDATE)
        updates = []
        rewrapped = 0
        for row in rows:
            aad = secret_aad(row["tenant_id"], row["instance_id"], row["name"])
            blob, key_id = bytes(row["ciphertext"]), row["key_id"]
            previous, previous_id = row["previous_ciphertext"], row["previous_key_id"]
            changed = 0
            if box.needs_rewrap(key_id):
                blob, key_id = box.rewrap(blob, aad=aad)
                changed += 1
            if previous is not None and box.needs_rewrap(previous_id):
                previous, previous_id = box.rewrap(bytes(previous), aad=aad)
                changed += 1
            if changed:
                rewrapped += changed
                updates.append(
                    (row["instance_id"], row["name"], blob, key_id, previous, previous_id)
                )
        await conn.executemany(
            "UPDATE instance_secrets SET ciphertext = $3, key_id = $4, previous_ciphertext = $5,"
            " previous_key_id = $6 WHERE instance_id = $1 AND name = $2",
            updates,
        )
    return rewrapped


async def count_not_under(db: Database, key_id: str) -> int:
    """How many ciphertexts (current or previous) use a key other than ``key_id``."""
    return int(
        await db.fetchval(
            "SELECT count(*) FILTER (WHERE key_id <> $1)"
            " + count(*) FILTER (WHERE previous_key_id IS NOT NULL AND previous_key_id <> $1)"
            " FROM instance_secrets",
            key_id,
        )
    )


async def count_secrets(db: Database) -> int:
    """How many secrets are stored (all tenants)."""
    return int(await db.fetchval("SELECT count(*) FROM instance_secrets"))
