"""The gateway's per-tenant models and usage ledger on real PostgreSQL, against a local
OpenAI-compatible endpoint (``bench.support.jira_site.running_provider``): the tenant's model and
key override the service's, every call is recorded (timeouts, refusals too), a ledger that cannot
be written never costs the answer, keys are encrypted at rest and bound to their tenant."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from pydantic import SecretStr

from bench.support.jira_site import Provider, running_provider
from core.crypto import KEY_BYTES, SecretBox
from core.db import Database
from core.egress import AllowList, EgressRefused
from core.embedded import free_port
from core.errors import RetryableError, SecretDecryptError
from core.llm import LlmService
from core.llm_store import LlmUsageStore, TenantLlmStore, TenantModel, rewrap_llm_keys
from core.settings import LlmSettings
from tests.conftest import TestServices

USAGE = {"prompt_tokens": 77, "completion_tokens": 11, "total_tokens": 88}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def provider() -> Iterator[Provider]:
    def answer(request: dict[str, Any]) -> str:
        if "slow" in request["model"]:
            time.sleep(3)
        return "hello"

    with running_provider(free_port(), answer, usage=USAGE) as running:
        yield running


def _service(db: Database, provider: Provider, box: SecretBox, **settings: Any) -> LlmService:
    port = urlsplit(provider.url).port
    return LlmService(
        LlmSettings(**settings),
        models=TenantLlmStore(db, box),
        usage=LlmUsageStore(db),
        allow=AllowList.parse([f"127.0.0.1:{port}"]),  # what DCODER_EGRESS_ALLOW would list
    )


async def _rows(db: Database) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch("SELECT * FROM llm_usage ORDER BY id")]


async def test_the_tenants_model_and_key_override_the_services_and_each_call_is_recorded(
    db: Database, provider: Provider
) -> None:
    box = SecretBox([os.urandom(KEY_BYTES)])
    llm = _service(db, provider, box, model="openai/global-model", api_base=provider.url,
                   api_key=SecretStr("global-key"))  # fmt: skip
    await TenantLlmStore(db, box).put(
        "tenant-a", TenantModel("openai/tenant-model", provider.url, "tenant-key")
    )
    a, b = llm.gateway("tenant-a", "inst-a", "jira"), llm.gateway("tenant-b", "inst-b", "bitbucket")

    assert await a.complete(HI) == "hello"
    assert await b.complete(HI) == "hello"
    await TenantLlmStore(db, box).delete("tenant-a")  # back to the service's, no restart
    assert await a.complete(HI) == "hello"

    assert [r["model"] for r in provider.seen] == ["tenant-model", "global-model", "global-model"]
    assert provider.keys == ["Bearer tenant-key", "Bearer global-key", "Bearer global-key"]
    rows = await _rows(db)
    assert [(r["tenant_id"], r["instance_id"], r["plugin"], r["model"]) for r in rows] == [
        ("tenant-a", "inst-a", "jira", "openai/tenant-model"),
        ("tenant-b", "inst-b", "bitbucket", "openai/global-model"),
        ("tenant-a", "inst-a", "jira", "openai/global-model"),
    ]
    assert {(r["prompt_tokens"], r["completion_tokens"], r["outcome"]) for r in rows} == {
        (77, 11, "ok")
    }
    assert all(r["cost_usd"] is None and r["latency_ms"] >= 0 for r in rows)  # unpriced model
    usage = await LlmUsageStore(db).usage("tenant-a", since=None, before=None, limit=1)
    assert [t.key for t in usage.by_model] == ["openai/global-model", "openai/tenant-model"]
    assert usage.by_instance[0].prompt_tokens == 154 and len(usage.calls) == 1
    assert usage.next_before == usage.calls[0].id


async def test_enabled_follows_the_tenants_model_after_a_refresh(
    db: Database, provider: Provider
) -> None:
    box = SecretBox([os.urandom(KEY_BYTES)])
    llm = _service(db, provider, box)  # no service model
    gateway = llm.gateway("tenant-a", "inst-a", "jira")
    assert not gateway.enabled
    await TenantLlmStore(db, box).put("tenant-a", TenantModel("openai/m", provider.url))
    await llm.refresh("tenant-a")
    assert gateway.enabled and not llm.gateway("tenant-b", "inst-b", "jira").enabled
    assert await gateway.complete(HI) == "hello"
    assert provider.keys == ["Bearer none"]  # never the host's OPENAI_API_KEY


async def test_timeouts_are_recorded_the_providers_and_the_callers(
    db: Database, provider: Provider
) -> None:
    box = SecretBox([os.urandom(KEY_BYTES)])
    llm = _service(db, provider, box)
    await TenantLlmStore(db, box).put(
        "tenant-a", TenantModel("openai/slow-model", provider.url, "k", timeout_s=0.5)
    )
    gateway = llm.gateway("tenant-a", "inst-a", "jira")
    with pytest.raises(RetryableError):
        await gateway.complete(HI)
    await TenantLlmStore(db, box).put(
        "tenant-a", TenantModel("openai/slow-caller", provider.url, "k", timeout_s=30)
    )
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):  # the plugin's own deadline cancels the call
            await gateway.complete(HI)
    for _ in range(50):  # the cancelled call's row is written in the background
        if len(await _rows(db)) == 2:
            break
        await asyncio.sleep(0.1)
    rows = await _rows(db)
    assert [(r["model"], r["outcome"], r["prompt_tokens"]) for r in rows] == [
        ("openai/slow-model", "timeout", None),
        ("openai/slow-caller", "timeout", None),
    ]


async def test_a_private_api_base_is_refused_before_the_call_and_recorded(
    db: Database, provider: Provider
) -> None:
    box = SecretBox([os.urandom(KEY_BYTES)])
    llm = _service(db, provider, box)
    # written past the API's check (or its name resolved elsewhere later): refused at call time
    await TenantLlmStore(db, box).put("tenant-a", TenantModel("openai/m", "http://10.0.0.7/v1"))
    with pytest.raises(EgressRefused):
        await llm.gateway("tenant-a", "inst-a", "jira").complete(HI)
    assert provider.seen == []
    [row] = await _rows(db)
    assert row["outcome"] == "error:egress-refused"


async def test_a_ledger_that_cannot_be_written_never_costs_the_answer(
    test_services: TestServices, db: Database, provider: Provider
) -> None:
    parts = urlsplit(db.url)
    gone = Database(urlunsplit(parts._replace(path="/no_such_database_llm")))
    llm = LlmService(
        LlmSettings(model="openai/m", api_base=provider.url, api_key=SecretStr("k")),
        usage=LlmUsageStore(gone),
    )
    try:
        assert await llm.gateway("tenant-a", "inst-a", "jira").complete(HI) == "hello"
    finally:
        await gone.close()


async def test_keys_are_encrypted_at_rest_bound_to_their_tenant_and_rewrapped(
    db: Database,
) -> None:
    old_key = os.urandom(KEY_BYTES)
    store = TenantLlmStore(db, SecretBox([old_key]))
    await store.put("tenant-a", TenantModel("openai/m", None, "sk-SECRET"))
    got = await store.get("tenant-a")
    assert got is not None and got.api_key == "sk-SECRET" and "SECRET" not in repr(got)
    raw = await db.fetchval("SELECT api_key FROM tenant_llm WHERE tenant_id = 'tenant-a'")
    assert b"SECRET" not in bytes(raw)
    await store.put("tenant-b", TenantModel("openai/m"))
    await db.execute("UPDATE tenant_llm SET api_key = $1 WHERE tenant_id = 'tenant-b'", raw)
    with pytest.raises(SecretDecryptError):
        await store.get("tenant-b")
    await db.execute("DELETE FROM tenant_llm WHERE tenant_id = 'tenant-b'")
    rotated = SecretBox([os.urandom(KEY_BYTES), old_key])  # newest first
    assert await rewrap_llm_keys(db, rotated) == 1
    got = await TenantLlmStore(db, rotated).get("tenant-a")
    assert got is not None and got.api_key == "sk-SECRET"
