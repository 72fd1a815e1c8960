"""CredentialStore on real PostgreSQL: encrypted at rest, tenant-bound, locked refresh, rewrap."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import pytest

from core.credentials import (
    Credential,
    CredentialStore,
    credentials_not_under,
    rewrap_credentials,
)
from core.crypto import KEY_BYTES, SecretBox
from core.db import Database
from core.errors import NotFound, SecretDecryptError


def _box(*keys: bytes) -> SecretBox:
    return SecretBox(list(keys) or [os.urandom(KEY_BYTES)])


async def test_put_get_encrypted_at_rest_and_tenant_bound(db: Database) -> None:
    store = CredentialStore(db, _box())
    expires = datetime.now(UTC) + timedelta(hours=1)
    tokens = {"access_token": "acc-SECRET", "refresh_token": "ref-SECRET"}
    await store.put("tenant-a", "inst-a", Credential("oauth2_authorization_code", tokens, expires))
    got = await store.get("tenant-a", "inst-a")
    assert got is not None and dict(got.values) == tokens and got.expires_at == expires
    assert "SECRET" not in repr(got)
    raw = await db.fetchval("SELECT ciphertext FROM instance_credentials")
    assert b"SECRET" not in bytes(raw)
    assert await store.get("tenant-b", "inst-a") is None  # another tenant sees nothing
    with pytest.raises(NotFound):
        await store.put("tenant-b", "inst-a", Credential("pat", {"token": "x"}))
    # a ciphertext copied onto another instance's row does not decrypt there (AAD-bound)
    await store.put("tenant-b", "inst-b", Credential("pat", {"token": "b"}))
    await db.execute(
        "UPDATE instance_credentials SET ciphertext = $1 WHERE instance_id = 'inst-b'", raw
    )
    with pytest.raises(SecretDecryptError):
        await store.get("tenant-b", "inst-b")
    assert await store.delete("tenant-a", "inst-a") and not await store.delete("tenant-a", "inst-a")


async def test_locked_serialises_refreshers(db: Database) -> None:
    store = CredentialStore(db, _box())
    await store.put("tenant-a", "inst-a", Credential("oauth2", {"refresh_token": "r0"}))
    refreshes = []

    async def refresh_if_still_r0() -> None:
        async with store.locked("tenant-a", "inst-a") as (conn, current):
            assert current is not None
            if current.values["refresh_token"] == "r0":  # only the first holder sees r0
                refreshes.append(1)
                await asyncio.sleep(0.05)
                await store.put(
                    "tenant-a", "inst-a", Credential("oauth2", {"refresh_token": "r1"}), conn=conn
                )

    await asyncio.wait_for(asyncio.gather(*(refresh_if_still_r0() for _ in range(5))), 30)
    assert refreshes == [1]
    got = await store.get("tenant-a", "inst-a")
    assert got is not None and got.values["refresh_token"] == "r1"


async def test_rewrap_credentials_after_key_rotation(db: Database) -> None:
    old_key, new_key = os.urandom(KEY_BYTES), os.urandom(KEY_BYTES)
    await CredentialStore(db, _box(old_key)).put(
        "tenant-a", "inst-a", Credential("pat", {"token": "t"})
    )
    rotated = _box(new_key, old_key)
    assert await credentials_not_under(db, rotated.newest_key_id) == 1
    assert await rewrap_credentials(db, rotated) == 1
    assert await credentials_not_under(db, rotated.newest_key_id) == 0
    got = await CredentialStore(db, _box(new_key)).get("tenant-a", "inst-a")
    assert got is not None and got.values == {"token": "t"}
