from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from plugin_sdk import Manifest, PermanentError, PluginConfigInvalid, PluginContext, Secrets
from plugin_sdk.memory import (
    DisabledLlm,
    MemoryEffectLedger,
    MemoryEventPublisher,
    MemoryKeyValueStore,
)
from plugin_sdk.protocols import EffectLedger, EventPublisher, KeyValueStore, LlmGateway

MANIFEST = Manifest.model_validate(
    {
        "name": "acme",
        "version": "1.0.0",
        "sdk_api": ">=1.0,<2",
        "description": "d",
        "events": {"emits": ["acme.>"]},
    }
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def ctx() -> AsyncIterator[PluginContext]:
    context = PluginContext(
        manifest=MANIFEST,
        tenant_id="t1",
        instance_id="i1",
        config={"a": 1},
        secrets=Secrets({"token": "s3cret"}),
        http=httpx.AsyncClient(),
        store=MemoryKeyValueStore(),
        publisher=MemoryEventPublisher(),
        ledger=MemoryEffectLedger(),
        llm=DisabledLlm(),
    )
    yield context
    await context.http.aclose()


def test_memory_implementations_satisfy_the_protocols() -> None:
    assert isinstance(MemoryKeyValueStore(), KeyValueStore)
    assert isinstance(MemoryEventPublisher(), EventPublisher)
    assert isinstance(MemoryEffectLedger(), EffectLedger)
    assert isinstance(DisabledLlm(), LlmGateway)


def test_secrets_never_show_values(ctx: PluginContext) -> None:
    assert "s3cret" not in repr(ctx.secrets) and "s3cret" not in repr(ctx)
    assert ctx.secrets["token"] == "s3cret"
    with pytest.raises(PluginConfigInvalid, match="'missing' is not set"):
        ctx.secrets["missing"]


def test_config_is_read_only(ctx: PluginContext) -> None:
    with pytest.raises(TypeError):
        ctx.config["a"] = 2  # type: ignore[index]


async def test_effect_runs_once_per_delivery_and_step(ctx: PluginContext) -> None:
    done = []
    for _ in range(3):
        async with ctx.effects.once("d1", "post-comment") as first:
            if first:
                done.append("comment")
    async with ctx.effects.once("d1", "add-label") as first:
        assert first
    assert done == ["comment"]


async def test_failed_effect_is_released_for_the_retry(ctx: PluginContext) -> None:
    with pytest.raises(RuntimeError):
        async with ctx.effects.once("d2", "post") as first:
            assert first
            raise RuntimeError("remote said 503")
    async with ctx.effects.once("d2", "post") as first:
        assert first


async def test_run_once_returns_the_recorded_result(ctx: PluginContext) -> None:
    calls = 0

    async def post() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"comment_id": 42}

    assert await ctx.effects.run_once("d3/post", post) == {"comment_id": 42}
    assert await ctx.effects.run_once("d3/post", post) == {"comment_id": 42}
    assert calls == 1


async def test_stale_claim_expires_after_its_lease() -> None:
    clock = Clock()
    ledger = MemoryEffectLedger(clock)
    assert await ledger.claim("k", lease_s=10)
    assert not await ledger.claim("k", lease_s=10)  # a live worker holds it
    clock.now += 11  # that worker died
    assert await ledger.claim("k", lease_s=10)
    await ledger.complete("k", 1)
    clock.now += 1000
    assert not await ledger.claim("k", lease_s=10)
    assert await ledger.result("k") == (True, 1)


async def test_publish_fills_source_and_checks_emits(ctx: PluginContext) -> None:
    event = await ctx.publish("acme.synced", {"n": 1}, correlation_id="c1", event_id="e1")
    assert event.source.plugin == "acme" and event.source.instance_id == "i1"
    assert event.tenant_id == "t1" and event.id == "e1"
    await ctx.publish("acme.synced", {"n": 1}, event_id="e1")  # same id: the bus drops it
    assert isinstance(ctx.publisher, MemoryEventPublisher)
    assert ctx.publisher.events == [event] and ctx.publisher.attempts == 2
    with pytest.raises(PermanentError, match="may not emit 'review.completed'"):
        await ctx.publish("review.completed", {})


async def test_store_round_trips_json_and_expires() -> None:
    clock = Clock()
    store = MemoryKeyValueStore(clock)
    await store.set("a:1", {"x": [1]})
    await store.set("a:2", 2, ttl_s=5)
    await store.set("b", 3)
    assert await store.get("a:1") == {"x": [1]}
    assert await store.keys("a:") == ["a:1", "a:2"]
    clock.now += 6
    assert await store.get("a:2") is None
    assert await store.delete("b") and not await store.delete("b")
    with pytest.raises(TypeError):
        await store.set("bad", object())


async def test_disabled_llm_says_not_ready() -> None:
    from plugin_sdk import PluginNotReady

    llm = DisabledLlm()
    assert not llm.enabled
    with pytest.raises(PluginNotReady):
        await llm.complete([{"role": "user", "content": "hi"}])
