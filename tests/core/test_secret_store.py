"""SecretStore and rewrap_all on real PostgreSQL (a fresh database per test)."""

from __future__ import annotations

import asyncio
import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from core.crypto import KEY_BYTES, SecretBox
from core.db import Database, apply_migrations, ensure_database
from core.errors import NotFound, SecretDecryptError
from core.secret_store import SecretStore, count_not_under, rewrap_all


async def fresh_database(server_url: str) -> Database:
    """A new empty database, migrated (the session database is shared with other tests)."""
    parts = urlsplit(server_url)
    url = urlunsplit(parts._replace(path=f"/secrets_{secrets.token_hex(4)}"))
    await ensure_database(url)
    db = Database(url)
    await apply_migrations(db)
    return db


async def add_instance(db: Database, tenant_id: str, instance_id: str) -> None:
    """A tenant (if new) and one plugin instance of it."""
    await db.execute(
        "INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING", tenant_id
    )
    await db.execute(
        "INSERT INTO plugin_instances (id, tenant_id, plugin, version, name, state)"
        " VALUES ($1, $2, 'jira', '1.0.0', $1, 'ready')",
        instance_id, tenant_id,
    )  # fmt: skip


async def drop_database(db: Database) -> None:
    """Close the pool and drop the database ``fresh_database`` made."""
    await db.close()
    parts = urlsplit(db.url)
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}"')
    finally:
        await admin.close()


def _box(*keys: bytes) -> SecretBox:
    return SecretBox(list(keys) or [os.urandom(KEY_BYTES)])


async def test_round_trip_and_upsert(db: Database) -> None:
    store = SecretStore(db, _box())
    await store.put("tenant-a", "inst-a", {"api_token": "tok-1", "webhook_secret": "wh-1"})
    await store.put("tenant-a", "inst-a", {"api_token": "tok-2"})
    assert await store.get("tenant-a", "inst-a") == {"api_token": "tok-2", "webhook_secret": "wh-1"}
    assert await store.get_with_previous("tenant-a", "inst-a", "api_token") == ["tok-2"]
    assert await store.get_with_previous("tenant-a", "inst-a", "missing") == []


async def test_no_plaintext_in_the_table(db: Database) -> None:
    plain = {"api_token": "PLAINTEXT-token-9f8e7d", "password": "hunter2-very-secret"}
    store = SecretStore(db, _box())
    await store.put("tenant-a", "inst-a", plain)
    await store.put("tenant-a", "inst-a", {"password": "second-PLAINTEXT-pw"}, overlap_s=60)
    rows = await db.fetch(
        "SELECT ciphertext, previous_ciphertext, t::text AS whole FROM instance_secrets t"
    )
    assert len(rows) == 2
    for row in rows:
        blobs = bytes(row["ciphertext"]) + bytes(row["previous_ciphertext"] or b"")
        for value in [*plain.values(), "second-PLAINTEXT-pw"]:
            assert value.encode() not in blobs
            assert value not in row["whole"] and value.encode().hex() not in row["whole"]


async def test_ciphertext_copied_to_another_tenant_fails(db: Database) -> None:
    store = SecretStore(db, _box())
    await store.put("tenant-a", "inst-a", {"api_token": "a-secret"})
    await store.put("tenant-b", "inst-b", {"api_token": "b-secret"})
    await db.execute(
        "UPDATE instance_secrets SET ciphertext = (SELECT ciphertext FROM instance_secrets"
        " WHERE instance_id = 'inst-a') WHERE instance_id = 'inst-b'"
    )
    with pytest.raises(SecretDecryptError):
        await store.get("tenant-b", "inst-b")
    assert await store.get("tenant-a", "inst-a") == {"api_token": "a-secret"}


async def test_other_tenant_cannot_read_or_write_an_instance(db: Database) -> None:
    store = SecretStore(db, _box())
    await store.put("tenant-a", "inst-a", {"api_token": "a-secret"})
    assert await store.get("tenant-b", "inst-a") == {}
    assert await store.get_with_previous("tenant-b", "inst-a", "api_token") == []
    with pytest.raises(NotFound):
        await store.put("tenant-b", "inst-a", {"api_token": "overwrite"})
    assert await store.get("tenant-a", "inst-a") == {"api_token": "a-secret"}


async def test_overlap_keeps_previous_until_it_expires(db: Database) -> None:
    store = SecretStore(db, _box())
    await store.put("tenant-a", "inst-a", {"webhook_secret": "old"})
    await store.put("tenant-a", "inst-a", {"webhook_secret": "new"}, overlap_s=1)
    assert await store.get_with_previous("tenant-a", "inst-a", "webhook_secret") == ["new", "old"]
    await store.put("tenant-a", "inst-a", {"webhook_secret": "new"}, overlap_s=1)  # unchanged
    assert await store.get_with_previous("tenant-a", "inst-a", "webhook_secret") == ["new", "old"]
    await asyncio.sleep(1.2)
    assert await store.get_with_previous("tenant-a", "inst-a", "webhook_secret") == ["new"]
    await store.put("tenant-a", "inst-a", {"webhook_secret": "newer"}, overlap_s=3600)
    await store.put("tenant-a", "inst-a", {"webhook_secret": "newest"})  # no overlap: revoke
    assert await store.get_with_previous("tenant-a", "inst-a", "webhook_secret") == ["newest"]


async def test_callers_transaction_decides(db: Database) -> None:
    store = SecretStore(db, _box())
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await store.put("tenant-a", "inst-a", {"api_token": "t"}, conn=conn)
            assert await store.get("tenant-a", "inst-a", conn=conn) == {"api_token": "t"}
            raise RuntimeError("caller rolls back")
    assert await store.get("tenant-a", "inst-a") == {}
    async with db.transaction() as conn:
        await store.put("tenant-a", "inst-a", {"api_token": "t"}, conn=conn)
        assert await store.delete_all("inst-a", conn=conn) == 1
    assert await store.get("tenant-a", "inst-a") == {}


async def test_rotation_old_ciphertexts_readable_then_rewrapped(db: Database) -> None:
    old_key, new_key = os.urandom(KEY_BYTES), os.urandom(KEY_BYTES)
    old_store = SecretStore(db, _box(old_key))
    await old_store.put("tenant-a", "inst-a", {"api_token": "t1", "webhook_secret": "w1"})
    await old_store.put("tenant-a", "inst-a", {"webhook_secret": "w2"}, overlap_s=3600)
    await old_store.put("tenant-b", "inst-b", {"api_token": "t-b"})
    rotated = _box(new_key, old_key)
    store = SecretStore(db, rotated)
    assert await store.get("tenant-a", "inst-a") == {"api_token": "t1", "webhook_secret": "w2"}
    assert await count_not_under(db, rotated.newest_key_id) == 4
    assert await rewrap_all(db, rotated) == 4  # 3 current + 1 previous
    assert await count_not_under(db, rotated.newest_key_id) == 0
    assert await rewrap_all(db, rotated) == 0
    only_new = SecretStore(db, _box(new_key))
    assert await only_new.get("tenant-a", "inst-a") == {"api_token": "t1", "webhook_secret": "w2"}
    assert await only_new.get_with_previous("tenant-a", "inst-a", "webhook_secret") == ["w2", "w1"]
    assert await only_new.get("tenant-b", "inst-b") == {"api_token": "t-b"}


async def test_rewrap_is_all_or_nothing(db: Database) -> None:
    old_key, new_key = os.urandom(KEY_BYTES), os.urandom(KEY_BYTES)
    await SecretStore(db, _box(old_key)).put("tenant-a", "inst-a", {"api_token": "t1"})
    await SecretStore(db, _box(os.urandom(KEY_BYTES))).put("tenant-b", "inst-b", {"x": "lost"})
    before = await db.fetch("SELECT * FROM instance_secrets ORDER BY instance_id")
    with pytest.raises(SecretDecryptError):
        await rewrap_all(db, _box(new_key, old_key))
    assert await db.fetch("SELECT * FROM instance_secrets ORDER BY instance_id") == before


async def test_delete_all(db: Database) -> None:
    store = SecretStore(db, _box())
    await store.put("tenant-a", "inst-a", {"a": "1", "b": "2"})
    await store.put("tenant-b", "inst-b", {"a": "3"})
    assert await store.delete_all("inst-a") == 2
    assert await store.get("tenant-a", "inst-a") == {}
    assert await store.get("tenant-b", "inst-b") == {"a": "3"}
