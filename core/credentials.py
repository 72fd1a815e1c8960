"""Encrypted, writable instance credentials (table ``instance_credentials``, named only here).

One row per instance: its auth ``kind`` and an AES-GCM ciphertext of a JSON object (the token, or
the OAuth access and refresh tokens), bound by its AAD to ``tenant/instance/credentials`` so a blob
copied to another row never decrypts. Values are never logged; ``Credential``'s repr hides them.
``locked`` holds the row ``FOR UPDATE`` so concurrent refreshers (in any process) take turns.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from core.crypto import SecretBox
from core.db import Database
from core.errors import NotFound

_SELECT = """
SELECT c.kind, c.ciphertext, c.expires_at
FROM instance_credentials c JOIN plugin_instances p ON p.id = c.instance_id
WHERE c.instance_id = $1 AND p.tenant_id = $2
"""
_UPSERT = """
INSERT INTO instance_credentials (instance_id, kind, ciphertext, key_id, expires_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (instance_id) DO UPDATE SET
    kind = EXCLUDED.kind,
    ciphertext = EXCLUDED.ciphertext,
    key_id = EXCLUDED.key_id,
    expires_at = EXCLUDED.expires_at,
    updated_at = now()
"""


def credential_aad(tenant_id: str, instance_id: str) -> bytes:
    """The AAD binding a credential's ciphertext to its tenant and instance."""
    return f"{tenant_id}/{instance_id}/credentials".encode()


@dataclass(frozen=True)
class Credential:
    """One instance's credential; ``values`` never appear in its repr."""

    kind: str
    values: Mapping[str, str] = field(repr=False)
    expires_at: datetime | None = None


class CredentialStore:
    """Reads and writes instance credentials; pass ``conn`` to join the caller's transaction."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    async def put(
        self,
        tenant_id: str,
        instance_id: str,
        credential: Credential,
        *,
        conn: asyncpg.Connection | None = None,
    ) -> None:
        """Replace the instance's credential in one statement (a rotated refresh token included)."""
        async with self._tx(conn) as tx:
            owner = await tx.fetchval(
                "SELECT tenant_id FROM plugin_instances WHERE id = $1", instance_id
            )
            if owner != tenant_id:
                raise NotFound(
                    f"plugin instance {instance_id!r} not found for tenant {tenant_id!r}"
                )
            plain = json.dumps(dict(credential.values), sort_keys=True)
            blob, key_id = self.box.encrypt(plain, aad=credential_aad(tenant_id, instance_id))
            await tx.execute(
                _UPSERT, instance_id, credential.kind, blob, key_id, credential.expires_at
            )

    async def get(
        self, tenant_id: str, instance_id: str, *, conn: asyncpg.Connection | None = None
    ) -> Credential | None:
        """The instance's credential, or None (also when the instance is not the tenant's)."""
        query, args = _SELECT, (instance_id, tenant_id)
        row = await (conn.fetchrow(query, *args) if conn else self.db.fetchrow(query, *args))
        return None if row is None else self._decode(tenant_id, instance_id, row)

    async def changed_at(self, tenant_id: str, instance_id: str) -> datetime | None:
        """When the instance's credential was last written (stored or refreshed), or None."""
        changed: datetime | None = await self.db.fetchval(
            "SELECT c.updated_at FROM instance_credentials c JOIN plugin_instances p"
            " ON p.id = c.instance_id WHERE c.instance_id = $1 AND p.tenant_id = $2",
            instance_id, tenant_id,
        )  # fmt: skip
        return changed

    @asynccontextmanager
    async def locked(
        self, tenant_id: str, instance_id: str
    ) -> AsyncIterator[tuple[asyncpg.Connection, Credential | None]]:
        """The credential read ``FOR UPDATE`` in a transaction: one refresher at a time."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(_SELECT + " FOR UPDATE OF c", instance_id, tenant_id)
            yield conn, None if row is None else self._decode(tenant_id, instance_id, row)

    async def delete(self, tenant_id: str, instance_id: str) -> bool:
        """Forget the instance's credential; True when there was one."""
        status = await self.db.execute(
            "DELETE FROM instance_credentials c USING plugin_instances p"
            " WHERE p.id = c.instance_id AND c.instance_id = $1 AND p.tenant_id = $2",
            instance_id, tenant_id,
        )  # fmt: skip
        return status.rsplit(" ", 1)[-1] != "0"

    def _decode(self, tenant_id: str, instance_id: str, row: asyncpg.Record) -> Credential:
        plain = self.box.decrypt(
            bytes(row["ciphertext"]), aad=credential_aad(tenant_id, instance_id)
        )
        return Credential(row["kind"], json.loads(plain), row["expires_at"])

    @asynccontextmanager
    async def _tx(self, conn: asyncpg.Connection | None) -> AsyncIterator[asyncpg.Connection]:
        if conn is None:
            async with self.db.transaction() as own:
                yield own
        else:
            async with conn.transaction():
                yield conn


async def rewrap_credentials(db: Database, box: SecretBox) -> int:
    """Re-encrypt every credential not under the newest key in one transaction; return the count."""
    async with db.transaction() as conn:
        rows = await conn.fetch(
            "SELECT c.instance_id, p.tenant_id, c.ciphertext, c.key_id"
            " FROM instance_credentials c JOIN plugin_instances p ON p.id = c.instance_id"
            " ORDER BY c.instance_id FOR UPDATE OF c"
        )
        updates = []
        for row in rows:
            if box.needs_rewrap(row["key_id"]):
                aad = credential_aad(row["tenant_id"], row["instance_id"])
                blob, key_id = box.rewrap(bytes(row["ciphertext"]), aad=aad)
                updates.append((row["instance_id"], blob, key_id))
        await conn.executemany(
            "UPDATE instance_credentials SET ciphertext = $2, key_id = $3 WHERE instance_id = $1",
            updates,
        )
    return len(updates)


async def credentials_not_under(db: Database, key_id: str) -> int:
    """How many credentials use a key other than ``key_id``."""
    query = "SELECT count(*) FROM instance_credentials WHERE key_id <> $1"
    return int(await db.fetchval(query, key_id))
