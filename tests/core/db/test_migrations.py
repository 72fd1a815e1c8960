"""Migrations from an empty database, re-runs and concurrent runners, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.db import (
    Database,
    applied_versions,
    apply_migrations,
    available_migrations,
    ensure_database,
)
from core.db.migrations import MigrationError
from tests.conftest import TestServices


@pytest.fixture
async def empty_db(test_services: TestServices) -> AsyncIterator[Database]:
    parts = urlsplit(test_services.database_url)
    url = urlunsplit(parts._replace(path=f"/mig_{secrets.token_hex(4)}"))
    await ensure_database(url)
    db = Database(url)
    yield db
    await db.close()


async def test_from_empty_applies_every_migration(empty_db: Database) -> None:
    expected = [m.version for m in available_migrations()]
    assert await applied_versions(empty_db) == {}
    assert await apply_migrations(empty_db) == expected
    assert sorted(await applied_versions(empty_db)) == expected
    tables = {r["tablename"] for r in await empty_db.fetch("SELECT tablename FROM pg_tables")}
    assert {"tenants", "tenant_api_keys", "audit_log", "schema_migrations"} <= tables


async def test_rerun_applies_nothing(empty_db: Database) -> None:
    await apply_migrations(empty_db)
    assert await apply_migrations(empty_db) == []


async def test_concurrent_runners_apply_each_migration_once(
    test_services: TestServices, empty_db: Database
) -> None:
    others = [Database(empty_db.url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(apply_migrations(db) for db in [empty_db, *others]))
    finally:
        for db in others:
            await db.close()
    applied = sorted(v for result in results for v in result)
    assert applied == [m.version for m in available_migrations()]


async def test_edited_migration_is_refused(empty_db: Database, tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t1 (id int);")
    assert await apply_migrations(empty_db, tmp_path) == [1]
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t1 (id bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await apply_migrations(empty_db, tmp_path)


async def test_failing_migration_leaves_nothing_half_applied(
    empty_db: Database, tmp_path: Path
) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE ok1 (id int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (id int); SELECT no_such_function();")
    with pytest.raises(Exception, match="no_such_function"):
        await apply_migrations(empty_db, tmp_path)
    assert sorted(await applied_versions(empty_db)) == [1]
    assert await empty_db.fetchval("SELECT to_regclass('public.half')") is None


def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "first.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_name.sql"):
        available_migrations(tmp_path)
