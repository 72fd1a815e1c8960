"""The runner's statements on real PostgreSQL: claims never overlap, worker deaths are bounded,
recovery after a runner restart, the outbox of ended jobs, guarded ends."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from core.jobs.runs import JobRuns
from core.jobs.store import JobOptions, JobStore
from tests.conftest import TestServices
from tests.core.test_secret_store import drop_database, fresh_database


@pytest.fixture(scope="module")
async def runs(test_services: TestServices) -> AsyncIterator[JobRuns]:
    # A database of its own: the session's job runner (a detached actor other modules start)
    # claims queued jobs from the session database and would race these claims.
    db = await fresh_database(test_services.database_url)
    yield JobRuns(db)
    await drop_database(db)


async def _instance(runs: JobRuns) -> tuple[str, str]:
    tenant, instance = f"t-{secrets.token_hex(4)}", f"i-{secrets.token_hex(4)}"
    await runs.db.execute("INSERT INTO tenants (id, name) VALUES ($1, $1)", tenant)
    await runs.db.execute(
        "INSERT INTO plugin_instances (id, tenant_id, plugin, version, name, state, config)"
        " VALUES ($1, $2, 'jobber', '1.2.3', $3, 'enabled', '{\"a\": 1}')",
        instance, tenant, f"jobber-{secrets.token_hex(2)}",
    )  # fmt: skip
    return tenant, instance


async def _mine(runs: JobRuns, limit: int, ids: set[str]) -> list[str]:
    return [c.job.id for c in await runs.claim(limit) if c.job.id in ids]


async def test_concurrent_claims_never_take_a_job_twice(runs: JobRuns) -> None:
    tenant, instance = await _instance(runs)
    store = JobStore(runs.db)
    ids = {(await store.submit(tenant, instance, "k", {"n": n}))[0].id for n in range(12)}

    batches = await asyncio.gather(*(_mine(runs, 3, ids) for _ in range(6)))

    claimed = [job for batch in batches for job in batch]
    claimed += await _mine(runs, 1000, ids)  # whatever older queued jobs left over
    assert sorted(claimed) == sorted(ids)  # each exactly once


async def test_a_claim_carries_plugin_version_config_and_counts_the_attempt(runs: JobRuns) -> None:
    tenant, instance = await _instance(runs)
    opts = JobOptions(resources={"sandbox": 1}, timeout_s=5, max_attempts=2)
    job, _ = await JobStore(runs.db).submit(tenant, instance, "k", {}, key="a", options=opts)

    [claimed] = [c for c in await runs.claim(100) if c.job.id == job.id]

    assert (claimed.plugin, claimed.version, claimed.config) == ("jobber", "1.2.3", {"a": 1})
    assert (claimed.job.status, claimed.job.attempts) == ("running", 1)
    assert (claimed.job.resources, claimed.job.timeout_s, claimed.job.max_attempts) == (
        {"sandbox": 1.0}, 5.0, 2,
    )  # fmt: skip


async def test_worker_deaths_retry_up_to_max_attempts_then_fail(runs: JobRuns) -> None:
    tenant, instance = await _instance(runs)
    opts = JobOptions(max_attempts=2)
    job, _ = await JobStore(runs.db).submit(tenant, instance, "k", {}, options=opts)
    await runs.claim(100)

    assert await runs.retry_or_fail(job.id, "worker died: WorkerCrashedError") == "queued"
    await runs.claim(100)
    assert await runs.retry_or_fail(job.id, "worker died: WorkerCrashedError") == "failed"
    assert await runs.retry_or_fail(job.id, "again") is None  # no longer running

    ended = await JobStore(runs.db).get(tenant, job.id)
    assert (ended.status, ended.attempts) == ("failed", 2)
    assert ended.error == "worker died: WorkerCrashedError (attempt 2 of 2)"


async def test_recovery_requeues_what_a_dead_runner_left_running(runs: JobRuns) -> None:
    tenant, instance = await _instance(runs)
    store = JobStore(runs.db)
    job, _ = await store.submit(tenant, instance, "k", {})
    last, _ = await store.submit(tenant, instance, "k", {}, options=JobOptions(max_attempts=1))
    await runs.claim(100)

    recovered = await runs.recover("the job runner restarted while the job ran")

    assert recovered[job.id] == "queued" and recovered[last.id] == "failed"


async def test_an_end_is_guarded_and_the_outbox_lists_it_until_notified(runs: JobRuns) -> None:
    tenant, instance = await _instance(runs)
    store = JobStore(runs.db)
    done, _ = await store.submit(tenant, instance, "k", {})
    cancelled, _ = await store.submit(tenant, instance, "k", {})
    await runs.claim(100)
    await store.cancel(tenant, cancelled.id)

    assert await runs.end(done.id, {"ok": 1}, None) is True
    assert await runs.end(done.id, None, "late failure") is False  # already done
    assert await runs.end(cancelled.id, {"ok": 1}, None) is False  # cancelled stays cancelled

    outbox = [e for e in await runs.unnotified() if e.job.instance_id == instance]
    assert [(e.job.id, e.job.status, e.job.result, e.plugin) for e in outbox] == [
        (done.id, "done", {"ok": 1}, "jobber")
    ]
    await runs.mark_notified(done.id)
    assert [e for e in await runs.unnotified() if e.job.instance_id == instance] == []
