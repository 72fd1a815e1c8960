"""The ``fit-model`` job: the whole stored history → the model in the instance store (a pointer
switched after the model's one put), a small result, and the host's cache of the decoded model.
On the store a job gets in the Ray worker (real PostgreSQL) and on the harness's."""

from __future__ import annotations

import uuid
from typing import Any

from actors.host.backends import PostgresKeyValueStore
from actors.job_access import JobAccess
from core.db import Database
from plugin_sdk.jobs import JobRun
from plugin_sdk.memory import MemoryKeyValueStore
from plugin_sdk.protocols import KeyValueStore
from plugins.jira import fit_job, history
from plugins.jira.similarity import PastStory
from tests.conftest import TestServices
from tests.core.test_secret_store import add_instance

WORDS = ["login", "export", "report", "cache", "queue", "schema", "retry", "billing", "search"]


async def _store_history(store: KeyValueStore, count: int, first: int = 0) -> None:
    """``count`` stories with points in the sync's shards (as ``history.sync`` writes them)."""
    for n in range(first, first + count):
        key = f"A-{n}"
        word = WORDS[n % len(WORDS)]
        text = f"Change the {word} code path and its tests ({n})."
        past = PastStory(key=key, summary=f"{word} change {n}", description=text,
                         points=[1, 2, 3, 5, 8][n % 5])  # fmt: skip
        shard = history.shard_of(key)
        entry = {"created": f"2026-01-01T00:00:{n:05d}", "story": past.model_dump(mode="json")}
        await store.set(shard, (await store.get(shard) or {}) | {key: entry})


def _job(store: KeyValueStore, job_id: str) -> JobRun:
    return JobRun(id=job_id, kind=fit_job.FIT_KIND, payload={}, tenant_id="t", instance_id="i",
                  config={}, attempt=1, store=store)  # fmt: skip


async def test_the_fit_reads_the_whole_history_and_switches_the_pointer_to_its_model() -> None:
    store = MemoryKeyValueStore()
    await _store_history(store, 700)  # more than the old payload ever carried of long stories
    result = await fit_job.run_fit(_job(store, "job-1"))
    assert result["stories"] == 700 and result["model_key"] == "models/job-1"
    assert "model" not in result and set(result) == {
        "stories", "version", "model_key", "bytes", "worker_peak_mib"}  # fmt: skip
    pointer = await fit_job.fitted(store)
    assert pointer is not None and pointer["version"] == "job-1" and pointer["stories"] == 700
    assert await fit_job.fitted_stories(store) == 700
    cache = fit_job.ModelCache()
    model = await cache.get(store)
    assert model is not None and len(model.history.keys) == 700
    assert await cache.get(store) is model  # same version: not decoded again

    await _store_history(store, 50, first=700)  # the history grew: a second fit, then a third
    await fit_job.run_fit(_job(store, "job-2"))
    assert await store.keys("models/") == ["models/job-1", "models/job-2"]  # replaced one stays
    newer = await cache.get(store)
    assert newer is not model and newer is not None and len(newer.history.keys) == 750
    await fit_job.run_fit(_job(store, "job-3"))
    assert await store.keys("models/") == ["models/job-2", "models/job-3"]


async def test_a_superseded_fit_that_ran_on_leaves_the_newer_model_in_place() -> None:
    store = MemoryKeyValueStore()
    await _store_history(store, 60)
    newer = {"version": "job-9", "key": "models/job-9", "stories": 80, "bytes": 1}
    await store.set(fit_job.POINTER_KEY, newer)  # a fit of a bigger history switched already
    result = await fit_job.run_fit(_job(store, "job-8"))
    assert result["model_key"] is None and result["stories"] == 60
    assert await store.get(fit_job.POINTER_KEY) == newer
    assert await store.keys("models/") == []  # its own model is not left behind


async def test_a_model_of_the_old_form_is_read_until_the_first_fit_of_the_job() -> None:
    store = MemoryKeyValueStore()
    await _store_history(store, 40)
    await fit_job.run_fit(_job(store, "job-1"))
    raw: Any = await store.get("models/job-1")
    # the host kept the job's result under "model" before the job wrote the store itself
    await store.delete(fit_job.POINTER_KEY)
    await store.set(fit_job.LEGACY_MODEL_KEY, {"model": raw["model"], "history_size": 40})
    assert await fit_job.fitted_stories(store) == 40
    assert await fit_job.ModelCache().get(store) is not None


async def test_on_postgresql_the_job_writes_the_model_the_host_reads(
    test_services: TestServices,
) -> None:
    tenant, instance = f"tf-{uuid.uuid4().hex[:8]}", f"if-{uuid.uuid4().hex[:8]}"
    db = Database(test_services.database_url)
    access = JobAccess(tenant, instance, None, {})
    try:
        await add_instance(db, tenant, instance)
        host_store = PostgresKeyValueStore(db, instance)  # ctx.store in the tenant host
        await _store_history(host_store, 120)
        result = await fit_job.run_fit(_job(access.store, "job-pg"))
        assert result["stories"] == 120 and 0 < result["bytes"] < 1_000_000
        model = await fit_job.ModelCache().get(host_store)
        assert model is not None and model.history.keys[-1] == "A-119"
    finally:
        await access.aclose()
        await db.close()
