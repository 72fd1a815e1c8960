"""JetStream streams are created idempotently and publishing is durable, on real NATS."""

from __future__ import annotations

import secrets

from core.bus import Bus, stream_configs
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
