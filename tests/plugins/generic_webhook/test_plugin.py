from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from plugin_sdk import PermanentError, PluginConfigInvalid, ValidationFailed, stable_event_id
from plugin_sdk.testing import PluginHarness
from plugins.generic_webhook.plugin import GenericWebhookPlugin, project

SECRETS = {"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
BODY = {
    "type": "invoice.paid",
    "timestamp": "2025-01-01T00:00:00Z",
    "data": {"id": "inv_1", "amount": 42, "customer": {"id": "c_1", "email": "a@b.c"}},
    "items": [{"sku": "x"}, {"sku": "y"}],
}


async def running(config: dict[str, Any]) -> PluginHarness[GenericWebhookPlugin]:
    harness = PluginHarness(GenericWebhookPlugin, config=config, secrets=SECRETS)
    await harness.install()
    await harness.enable()
    return harness


@pytest.fixture
async def harness() -> AsyncIterator[PluginHarness[GenericWebhookPlugin]]:
    h = await running({})
    yield h
    await h.aclose()


async def test_publishes_the_body_as_an_event(harness: PluginHarness[GenericWebhookPlugin]) -> None:
    delivery = await harness.webhook(
        body=BODY, headers={"webhook-id": "msg_1", "webhook-signature": "v1,abc"}
    )
    [event] = harness.published_events
    assert event.subject == "generic.received"
    assert event.data == {"event_key": "invoice.paid", "payload": BODY}
    assert event.correlation_id == delivery.delivery_id
    assert event.source.plugin == "generic-webhook"
    assert "webhook-signature" not in delivery.headers


async def test_redelivery_publishes_the_same_event(
    harness: PluginHarness[GenericWebhookPlugin],
) -> None:
    delivery = await harness.webhook(body=BODY, delivery_id="msg_2")
    await harness.redeliver(delivery)
    await harness.webhook(body=BODY, delivery_id="msg_2")
    # each repeat publishes again, with the same event id: the bus keeps one event
    assert harness.publisher.attempts == 3
    [event] = harness.published_events
    assert event.id == stable_event_id(harness.instance_id, "msg_2")
    await harness.webhook(body=BODY, delivery_id="msg_3")
    assert len(harness.published_events) == 2


async def test_subject_and_field_whitelist_from_config() -> None:
    h = await running(
        {"event_type": "generic.billing.paid", "fields": ["/type", "/data/customer/id", "/nope"]}
    )
    await h.webhook(body=BODY)
    [event] = h.published_events
    assert event.subject == "generic.billing.paid"
    assert event.data["payload"] == {"type": "invoice.paid", "data": {"customer": {"id": "c_1"}}}
    await h.aclose()


def test_projection_rules() -> None:
    assert project(BODY, ["/items/1/sku"]) == {"items": {"1": {"sku": "y"}}}
    assert project(BODY, ["/data", "/data/id"]) == {"data": BODY["data"]}
    assert project({"a/b": 1, "m~n": 2}, ["/a~1b", "/m~0n"]) == {"a/b": 1, "m~n": 2}
    assert project([1, 2], ["/0"]) == {"0": 1}


async def test_non_json_body_is_dead_lettered(harness: PluginHarness[GenericWebhookPlugin]) -> None:
    with pytest.raises(PermanentError, match="is not JSON"):
        await harness.webhook(body=b"<xml/>")
    assert harness.published_events == []
    # the failed attempt left no claim behind: a fixed redelivery still publishes
    await harness.webhook(body=b"{}", delivery_id="fixed")
    assert len(harness.published_events) == 1


@pytest.mark.parametrize(
    ("config", "pointer"),
    [
        ({"event_type": "review.completed"}, "/event_type"),  # can't impersonate platform events
        ({"fields": ["no-slash"]}, "/fields/0"),
        ({"colour": "red"}, "/colour"),
    ],
)
def test_config_is_validated(config: dict[str, Any], pointer: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PluginHarness(GenericWebhookPlugin, config=config, secrets=SECRETS)
    assert [e["pointer"] for e in caught.value.extra["errors"]] == [pointer]


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_c2hvcnQ="])
async def test_configure_rejects_bad_signing_secrets(secret: str) -> None:
    async with PluginHarness(
        GenericWebhookPlugin, config={}, secrets={"signing_secret": secret}
    ) as h:
        with pytest.raises(PluginConfigInvalid, match="signing_secret"):
            await h.install()


def test_config_model_agrees_with_the_manifest_schema() -> None:
    manifest = GenericWebhookPlugin.load_manifest()
    model = GenericWebhookPlugin.config_model.model_json_schema()
    assert set(model["properties"]) == set(manifest.config_schema["properties"])
    assert model["properties"]["event_type"]["default"] == "generic.received"
    assert manifest.config_schema["properties"]["event_type"]["default"] == "generic.received"
