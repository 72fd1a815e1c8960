"""``JobRun.store`` / ``JobRun.http`` as the worker opens them (real PostgreSQL): the job's own
instance's rows of ``instance_kv`` (the table ``ctx.store`` uses), nothing of another instance or
tenant, and an HTTP client on the egress guard."""

from __future__ import annotations

import uuid

import pytest

from actors.host.backends import PostgresKeyValueStore
from actors.job_access import JobAccess
from core.db import Database
from core.egress import EgressRefused
from core.errors import PermanentError
from plugin_sdk.jobs import JobRun
from plugin_sdk.manifest import Manifest
from tests.conftest import TestServices
from tests.core.test_secret_store import add_instance


def _ids() -> tuple[str, str, str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"ta-{tag}", f"tb-{tag}", f"ia-{tag}", f"ib-{tag}"


async def test_a_job_store_is_its_instance_store_and_reaches_no_other(
    test_services: TestServices,
) -> None:
    tenant, other, mine, theirs = _ids()
    sibling = f"{mine}-2"  # another instance of the same tenant
    db = Database(test_services.database_url)
    access = JobAccess(tenant, mine, None, {})
    try:
        await add_instance(db, tenant, mine)
        await add_instance(db, tenant, sibling)
        await add_instance(db, other, theirs)
        ctx_store = PostgresKeyValueStore(db, mine)  # what ctx.store is in the tenant host
        await ctx_store.set("history/00", {"A-1": 1})
        await PostgresKeyValueStore(db, sibling).set("history/00", {"S-1": 2})
        await PostgresKeyValueStore(db, theirs).set("history/00", {"T-1": 3})

        store = access.store
        assert await store.get("history/00") == {"A-1": 1}
        await store.set("history/01", {"A-2": 5})
        await store.set("tmp", 1, ttl_s=0.001)
        assert await ctx_store.get("history/01") == {"A-2": 5}  # the same rows
        assert await store.keys("history/") == ["history/00", "history/01"]
        assert await store.keys("tmp") == []  # expired, as in ctx.store
        assert await PostgresKeyValueStore(db, sibling).keys() == ["history/00"]
        assert await PostgresKeyValueStore(db, theirs).get("history/01") is None
        assert await store.delete("history/01") and not await store.delete("history/01")
    finally:
        await access.aclose()
        await db.close()

    # the ids come from the job row: a row naming another tenant's instance gets no store
    for wrong in (JobAccess(other, mine, None, {}), JobAccess(tenant, theirs, None, {}),
                  JobAccess(tenant, f"missing-{mine}", None, {})):  # fmt: skip
        try:
            with pytest.raises(PermanentError, match="gets no store"):
                await wrong.store.get("history/00")
            with pytest.raises(PermanentError, match="gets no store"):
                await wrong.store.set("x", 1)
            with pytest.raises(PermanentError, match="gets no store"):
                await wrong.store.keys()
        finally:
            await wrong.aclose()


async def test_job_run_without_a_store_or_http_refuses_clearly() -> None:
    bare = JobRun(id="j", kind="k", payload={}, tenant_id="t", instance_id="i", config={},
                  attempt=1)  # fmt: skip
    with pytest.raises(PermanentError, match="no instance store"):
        await bare.store.get("k")
    with pytest.raises(PermanentError, match="no HTTP client"):
        _ = bare.http


def _manifest() -> Manifest:
    return Manifest.model_validate({
        "name": "guarded", "version": "1.0.0", "sdk_api": ">=1.0,<2", "description": "d",
        "capabilities": [], "config_schema": {"type": "object"},
    })  # fmt: skip


def test_a_sync_run_job_is_told_to_be_async() -> None:
    access = JobAccess("t", "i", _manifest(), {})
    with pytest.raises(PermanentError, match="async def run_job"):
        access.http()  # no event loop: a sync run_job cannot use the store or the client


async def test_job_http_is_egress_guarded() -> None:
    access = JobAccess("t", "i", _manifest(), {"base_url": "https://site.example.com"})
    try:
        run = JobRun(id="j", kind="k", payload={}, tenant_id="t", instance_id="i", config={},
                     attempt=1, open_http=access.http)  # fmt: skip
        assert run.http is run.http  # one client per job
        with pytest.raises(EgressRefused):
            await run.http.get("http://169.254.169.254/latest/meta-data/")  # cloud metadata
        with pytest.raises(EgressRefused):
            await run.http.get("https://elsewhere.example.org/")  # not the instance's host
    finally:
        await access.aclose()
