"""Job rows on real PostgreSQL: lifecycle, supersede by key, cancel, tenant isolation."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from core.db import Database, apply_migrations
from core.errors import Conflict, NotFound
from core.jobs.store import JobStore
from tests.conftest import TestServices


@pytest.fixture(scope="module")
async def store(test_services: TestServices) -> AsyncIterator[JobStore]:
    db = Database(test_services.database_url)
    await apply_migrations(db)
    yield JobStore(db)
    await db.close()


async def _tenant(store: JobStore) -> tuple[str, str]:
    tenant, instance = f"t-{secrets.token_hex(4)}", f"i-{secrets.token_hex(4)}"
    await store.db.execute("INSERT INTO tenants (id, name) VALUES ($1, $1)", tenant)
    await store.db.execute(
        "INSERT INTO plugin_instances (id, tenant_id, plugin, version, name, state)"
        " VALUES ($1, $2, 'jobber', '1.0.0', $3, 'running')",
        instance, tenant, f"jobber-{secrets.token_hex(2)}",
    )  # fmt: skip
    return tenant, instance


async def test_lifecycle_records_attempts_progress_and_result(store: JobStore) -> None:
    tenant, instance = await _tenant(store)
    job, superseded = await store.submit(tenant, instance, "sandbox.review", {"pr": 7}, key="pr-7")
    assert (job.status, job.attempts, job.payload, superseded) == ("queued", 0, {"pr": 7}, [])
    started = await store.start(tenant, job.id)
    assert started.status == "running" and started.attempts == 1 and started.started_at
    assert (await store.set_progress(tenant, job.id, 0.4)).progress == 0.4
    assert (await store.set_progress(tenant, job.id, 7)).progress == 1.0
    done = await store.finish(tenant, job.id, {"findings": 3})
    assert (done.status, done.result) == ("done", {"findings": 3}) and done.finished_at
    with pytest.raises(Conflict, match="already done"):
        await store.cancel(tenant, job.id)
    failed = await store.fail(tenant, (await store.submit(tenant, instance, "k", {}))[0].id, "boom")
    assert (failed.status, failed.error) == ("failed", "boom")


async def test_newer_job_with_the_same_key_supersedes_the_live_ones(store: JobStore) -> None:
    tenant, instance = await _tenant(store)
    first, _ = await store.submit(tenant, instance, "review", {}, key="pr-1")
    await store.start(tenant, first.id)
    other, _ = await store.submit(tenant, instance, "review", {}, key="pr-2")
    second, superseded = await store.submit(tenant, instance, "review", {}, key="pr-1")
    assert superseded == [first.id]
    old = await store.get(tenant, first.id)
    assert (old.status, old.superseded_by) == ("superseded", second.id)
    assert (await store.get(tenant, other.id)).status == "queued"
    third, superseded = await store.submit(tenant, instance, "review", {}, key="pr-1")
    assert superseded == [second.id]
    with pytest.raises(Conflict, match="already superseded"):
        await store.start(tenant, first.id)


async def test_cancel_ends_a_live_job(store: JobStore) -> None:
    tenant, instance = await _tenant(store)
    job, _ = await store.submit(tenant, instance, "review", {})
    assert (await store.cancel(tenant, job.id)).status == "cancelled"
    with pytest.raises(Conflict, match="already cancelled"):
        await store.start(tenant, job.id)


async def test_tenant_b_can_neither_see_nor_cancel_tenant_a_jobs(store: JobStore) -> None:
    tenant_a, instance_a = await _tenant(store)
    tenant_b, _ = await _tenant(store)
    job, _ = await store.submit(tenant_a, instance_a, "review", {"secret": "a"})
    assert [j.id for j in await store.list(tenant_a)] == [job.id]
    assert await store.list(tenant_b) == []
    with pytest.raises(NotFound):
        await store.get(tenant_b, job.id)
    with pytest.raises(NotFound):
        await store.cancel(tenant_b, job.id)
    assert (await store.get(tenant_a, job.id)).status == "queued"
