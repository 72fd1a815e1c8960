"""Migration 0007 on a database with history: audit rows go to the right tenant incarnation."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.db import Database, apply_migrations, ensure_database
from core.db.migrations import MIGRATIONS_DIR
from tests.conftest import TestServices


@pytest.fixture
async def db(test_services: TestServices) -> AsyncIterator[Database]:
    parts = urlsplit(test_services.database_url)
    url = urlunsplit(parts._replace(path=f"/mig7_{secrets.token_hex(4)}"))
    await ensure_database(url)
    database = Database(url)
    yield database
    await database.close()


async def test_rows_before_the_current_tenant_belong_to_a_former_incarnation(
    db: Database, tmp_path: Path
) -> None:
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) < 7:
            shutil.copy(path, tmp_path / path.name)
    await apply_migrations(db, tmp_path)
    await db.execute(
        "INSERT INTO audit_log (tenant_id, actor, action, at) VALUES"
        " ('acme', 'operator', 'tenant.create', now() - interval '2 days'),"
        " ('acme', 'tenant:acme', 'key.issue', now() - interval '2 days'),"
        " (NULL, 'operator', 'tenant.delete', now() - interval '1 day')"
    )
    await db.execute("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme again')")
    await db.execute(
        "INSERT INTO audit_log (tenant_id, actor, action)"
        " VALUES ('acme', 'operator', 'tenant.create')"
    )
    assert 7 in await apply_migrations(db)
    incarnation = await db.fetchval("SELECT incarnation FROM tenants WHERE id = 'acme'")
    rows = await db.fetch("SELECT action, incarnation FROM audit_log ORDER BY id")
    assert [(r["action"], r["incarnation"]) for r in rows] == [
        ("tenant.create", None), ("key.issue", None), ("tenant.delete", None),
        ("tenant.create", incarnation),
    ]  # fmt: skip
    await db.execute("INSERT INTO tenants (id, name) VALUES ('other', 'Other')")
    assert await db.fetchval("SELECT count(DISTINCT incarnation) FROM tenants") == 2
