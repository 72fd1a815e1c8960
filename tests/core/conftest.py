"""Fixtures shared by the core tests on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.db import Database
from tests.conftest import TestServices
from tests.core.test_secret_store import add_instance, drop_database, fresh_database


@pytest.fixture
async def db(test_services: TestServices) -> AsyncIterator[Database]:
    """A fresh migrated database with two tenants, one instance each (``tenant-a``/``inst-a``,
    ``tenant-b``/``inst-b``), dropped after the test."""
    database = await fresh_database(test_services.database_url)
    await add_instance(database, "tenant-a", "inst-a")
    await add_instance(database, "tenant-b", "inst-b")
    yield database
    await drop_database(database)
