"""The pool's release path on real PostgreSQL: open transactions end, no reset round trip."""

from __future__ import annotations

import asyncio
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


async def _backends(observer: asyncpg.Connection, name: str) -> set[int]:
    """The pids of the server processes of the connections named ``name``."""
    rows = await observer.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1", name
    )
    return {r["pid"] for r in rows}


async def test_a_pool_kept_open_has_every_connection_before_its_first_burst(
    test_services: TestServices,
) -> None:
    """The ingest's pool (``keep_open``) opens ``pool_max`` connections with the pool: a burst
    of concurrent queries makes none, so no request waits for one. A default pool opens
    ``pool_min`` and grows under the same burst."""
    url = test_services.database_url
    observer = await asyncpg.connect(url)
    kept_name, grown_name = (f"pool-{secrets.token_hex(4)}" for _ in range(2))
    kept = Database(url, DatabaseSettings(pool_min=1, pool_max=4),
                    server_settings={"application_name": kept_name}, keep_open=True)  # fmt: skip
    grown = Database(url, DatabaseSettings(pool_min=1, pool_max=4),
                     server_settings={"application_name": grown_name})  # fmt: skip
    try:
        for db in (kept, grown):
            await db.fetchval("SELECT 1")
        assert len(await _backends(observer, kept_name)) == 4
        assert len(await _backends(observer, grown_name)) == 1
        for db, name in ((kept, kept_name), (grown, grown_name)):
            before = await _backends(observer, name)
            await asyncio.gather(*(db.fetchval("SELECT pg_sleep(0.2)") for _ in range(4)))
            after = await _backends(observer, name)
            if db is kept:
                assert after == before  # the burst opened no connection
            else:
                assert len(after) == 4 and before < after
    finally:
        for db in (kept, grown):
            await db.close()
        await observer.close()
