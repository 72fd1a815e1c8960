"""The pool's release path on real PostgreSQL: open transactions end, no reset round trip."""

from __future__ import annotations

import secrets

import asyncpg

from actors.event_relay import RELAY_SESSION
from core.db import Database
from core.settings import DatabaseSettings
from tests.conftest import TestServices


async def test_release_rolls_back_and_sends_no_reset_query(test_services: TestServices) -> None:
    url = test_services.database_url
    db = Database(url, DatabaseSettings(pool_min=1, pool_max=1))
    table = f"pool_probe_{secrets.token_hex(4)}"
    observer = await asyncpg.connect(url)
    try:
        await db.execute(f"CREATE TABLE {table} (n int)")
        async with db.connection() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            await conn.execute("BEGIN")
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
        # Released inside a transaction: rolled back, and the same connection comes back.
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid
            assert not conn.is_in_transaction()
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
            await conn.fetchval("SELECT 41 + 1")
        # The last statement that backend ran is ours: releasing it cost no extra round trip
        # (asyncpg's default reset would have run `... UNLISTEN *; RESET ALL;` here).
        last = await observer.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        assert last == "SELECT 41 + 1"
    finally:
        await db.execute(f"DROP TABLE IF EXISTS {table}")
        await db.close()
        await observer.close()


async def test_session_settings_apply_to_every_pooled_connection(
    test_services: TestServices,
) -> None:
    db = Database(test_services.database_url, DatabaseSettings(pool_min=2, pool_max=2),
                  server_settings=RELAY_SESSION)  # fmt: skip
    try:
        async with db.connection() as first, db.connection() as second:
            for conn in (first, second):
                assert await conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
        plain = Database(test_services.database_url)
        assert await plain.fetchval("SHOW plan_cache_mode") == "auto"
        await plain.close()
    finally:
        await db.close()
