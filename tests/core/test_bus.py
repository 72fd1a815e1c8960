"""JetStream streams are created idempotently and publishing is durable, on real NATS."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy
from nats.js.errors import NotFoundError

from core.bus import RELAYED_STREAMS, WEBHOOKS, Bus, relay_consumer, stream_configs, stream_name
from core.settings import NatsSettings
from tests.conftest import TestServices


async def test_streams_created_once_then_left_alone(test_services: TestServices) -> None:
    settings = NatsSettings(namespace=f"b{secrets.token_hex(3)}")
    bus = Bus(test_services.nats_url, settings)
    try:
        created = await bus.ensure_streams()
        assert sorted(created) == sorted(stream_configs(settings))
        assert await bus.ensure_streams() == []
        js = await bus.jetstream()
        info = await js.stream_info(f"{settings.namespace.upper()}_WEBHOOKS")
        assert info.config.subjects == [f"{settings.namespace}.webhooks.>"]
    finally:
        js = await bus.jetstream()
        for name in stream_configs(settings):
            await js.delete_stream(name)
        await bus.close()


async def test_changed_stream_config_is_updated(test_services: TestServices) -> None:
    settings = NatsSettings(namespace=f"b{secrets.token_hex(3)}", duplicate_window_s=60)
    bus = Bus(test_services.nats_url, settings)
    try:
        await bus.ensure_streams()
        changed = NatsSettings(namespace=settings.namespace, duplicate_window_s=120)
        bus2 = Bus(test_services.nats_url, changed)
        assert sorted(await bus2.ensure_streams()) == sorted(
            n for n in stream_configs(changed) if n.endswith(("WEBHOOKS", "EVENTS"))
        )
        await bus2.close()
    finally:
        js = await bus.jetstream()
        for name in stream_configs(settings):
            await js.delete_stream(name)
        await bus.close()


async def test_publish_is_deduplicated_by_message_id(test_services: TestServices) -> None:
    settings = NatsSettings(namespace=f"b{secrets.token_hex(3)}")
    bus = Bus(test_services.nats_url, settings)
    try:
        await bus.ensure_streams()
        subject = bus.subjects.webhook("acme", "inst1")
        first = await bus.publish(subject, b"{}", msg_id="delivery-1")
        second = await bus.publish(subject, b"{}", msg_id="delivery-1")
        assert not first.duplicate
        assert second.duplicate
        assert second.seq == first.seq
    finally:
        js = await bus.jetstream()
        for name in stream_configs(settings):
            await js.delete_stream(name)
        await bus.close()


async def _relay_sub(bus: Bus, stream: str) -> JetStreamContext.PullSubscription:
    """Bind to the relays' durable consumer of ``stream``, as a relay does."""
    ns = bus.settings.namespace
    return await (await bus.jetstream()).pull_subscribe(
        bus.subjects.relayed(stream), durable=relay_consumer(ns, stream),
        stream=stream_name(ns, stream),
    )  # fmt: skip


async def _stored(bus: Bus, stream: str, expect: int | None = None) -> int:
    """Messages the stream holds (waiting up to 5 s for ``expect``: acks apply asynchronously)."""
    for _ in range(50):
        js = await bus.jetstream()
        info = await js.stream_info(stream_name(bus.settings.namespace, stream))
        if expect is None or info.state.messages == expect:
            break
        await asyncio.sleep(0.1)
    return int(info.state.messages)


async def _relay_consumers(bus: Bus) -> dict[str, tuple[float, str | None]]:
    """Stream → (ack wait, filter subject) of the relays' consumer of each relayed stream."""
    js, ns = await bus.jetstream(), bus.settings.namespace
    found = {}
    for stream in RELAYED_STREAMS:
        info = await js.consumer_info(stream_name(ns, stream), relay_consumer(ns, stream))
        found[stream] = (info.config.ack_wait, info.config.filter_subject)
    return found


@contextlib.asynccontextmanager
async def _own_namespace(services: TestServices) -> AsyncIterator[Bus]:
    """A Bus on a namespace of its own; its streams are deleted afterwards."""
    settings = NatsSettings(namespace=f"b{secrets.token_hex(3)}")
    bus = Bus(services.nats_url, settings)
    try:
        yield bus
    finally:
        js = await bus.jetstream()
        for name in stream_configs(settings):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name)
        await bus.close()


async def test_a_settled_delivery_leaves_the_stream_an_unsettled_one_stays(
    test_services: TestServices,
) -> None:
    async with _own_namespace(test_services) as bus:
        await bus.ensure_streams(ack_wait_s=45)
        # declared with the stream, before anything publishes
        assert await _relay_consumers(bus) == {
            stream: (45, bus.subjects.relayed(stream)) for stream in RELAYED_STREAMS
        }
        subject = bus.subjects.webhook("acme", "inst1")
        for n in range(3):
            await bus.publish(subject, b"{}", msg_id=f"d-{n}")
        assert await _stored(bus, WEBHOOKS) == 3
        sub = await _relay_sub(bus, WEBHOOKS)
        first, second, third = await sub.fetch(3, timeout=5)
        await first.ack_sync()
        await second.term()  # dead-lettered: its copy lives in the DLQ stream
        await third.nak(delay=30)  # to be retried: JetStream must keep it
        assert await _stored(bus, WEBHOOKS, expect=1) == 1
        # a repeat of a settled delivery is still recognised (the window outlives the message)
        assert (await bus.publish(subject, b"{}", msg_id="d-0")).duplicate
        assert await _stored(bus, WEBHOOKS) == 1
        # a longer handler timeout later: the consumer's ack wait follows, nothing is lost
        assert await bus.ensure_streams(ack_wait_s=90) == []
        assert await _relay_consumers(bus) == {
            stream: (90, bus.subjects.relayed(stream)) for stream in RELAYED_STREAMS
        }
        assert await _stored(bus, WEBHOOKS) == 1


async def test_an_older_limits_stream_switches_to_interest_keeping_what_is_unsettled(
    test_services: TestServices,
) -> None:
    """Before this version the relayed streams kept every message 7 days (limits retention)."""
    async with _own_namespace(test_services) as bus:
        js = await bus.jetstream()
        name = stream_name(bus.settings.namespace, WEBHOOKS)
        old = stream_configs(bus.settings)[name]
        old.retention = RetentionPolicy.LIMITS
        await js.add_stream(old)
        subject = bus.subjects.webhook("acme", "inst1")
        for n in range(3):
            await bus.publish(subject, b"{}", msg_id=f"d-{n}")
        sub = await _relay_sub(bus, WEBHOOKS)  # the older relay made its consumer itself
        msgs = await sub.fetch(3, timeout=5)
        for msg in msgs[:2]:
            await msg.ack_sync()
        await msgs[2].nak()  # to be retried
        assert await _stored(bus, WEBHOOKS) == 3  # limits: settled messages stay
        assert name in await bus.ensure_streams()
        assert (await js.stream_info(name)).config.retention == RetentionPolicy.INTEREST
        assert await _stored(bus, WEBHOOKS, expect=1) == 1
        [left] = await (await _relay_sub(bus, WEBHOOKS)).fetch(1, timeout=5)
        assert left.headers and left.headers["Nats-Msg-Id"] == "d-2"
