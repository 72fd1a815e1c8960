from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from plugin_sdk import Capability, Manifest, WebhookScheme


def manifest(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "acme-tracker",
        "version": "1.2.3",
        "sdk_api": ">=1.0,<2",
        "description": "Tracks acme things.",
        "capabilities": ["webhooks", "events"],
        "webhook": {"scheme": "atlassian-hmac", "secret": "webhook_secret"},
        "secrets": [{"name": "webhook_secret"}, {"name": "api_token", "required": False}],
        "events": {"consumes": ["review.completed", "jira.>"], "emits": ["acme.synced"]},
        "config_schema": {
            "type": "object",
            "properties": {"project_key": {"type": "string"}},
            "required": ["project_key"],
        },
        "permissions": ["network:*.atlassian.net", "llm"],
        "homepage": "https://example.org/acme",
        "codeowners": ["@acme/team"],
    }
    base.update(overrides)
    return base


def test_full_manifest_parses() -> None:
    parsed = Manifest.model_validate(manifest())
    assert parsed.capabilities == {Capability.WEBHOOKS, Capability.EVENTS}
    assert parsed.webhook is not None and parsed.webhook.scheme is WebhookScheme.ATLASSIAN_HMAC
    assert parsed.secret_names() == ["webhook_secret", "api_token"]
    assert parsed.module_name == "acme_tracker"
    assert parsed.supports_sdk()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"surprise": 1}, "Extra inputs are not permitted"),
        ({"name": "Acme_Tracker"}, "String should match pattern"),
        ({"version": "1.2"}, "not a semantic version"),
        ({"sdk_api": "one"}, "version range"),
        ({"capabilities": ["teleport"]}, "Input should be"),
        (
            {"config_schema": {"type": "object", "properties": {"a": {"type": "strin"}}}},
            "JSON Schema",
        ),
        ({"config_schema": {"type": "array"}}, '"type": "object"'),
        ({"webhook": None}, "needs a 'webhook' section"),
        ({"webhook": {"scheme": "standard-webhooks", "secret": "nope"}}, "not one of 'secrets'"),
        ({"webhook": {"scheme": "connect-jwt"}}, "needs 'secret'"),
        ({"webhook": {"scheme": "none", "secret": "webhook_secret"}}, "takes no secret"),
        ({"webhook": {"scheme": "none", "event_key": "body:/x"}}, "String should match pattern"),
        ({"capabilities": ["webhooks"]}, "needs capability 'events'"),
        ({"events": {"emits": ["Not A Subject"]}}, "is not a subject"),
        ({"permissions": ["network: spaces"]}, "not a permission"),
        ({"secrets": [{"name": "webhook_secret"}, {"name": "webhook_secret"}]}, "unique"),
        ({"homepage": "not a url"}, "URL"),
    ],
)
def test_invalid_manifests_are_refused_with_the_reason(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Manifest.model_validate(manifest(**overrides))


def test_webhook_section_needs_the_capability() -> None:
    with pytest.raises(ValidationError, match="needs capability 'webhooks'"):
        Manifest.model_validate(manifest(capabilities=["events"]))


def test_event_key_locations() -> None:
    header = manifest(webhook={"scheme": "none", "event_key": "header:X-Event-Key"})
    assert Manifest.model_validate(header).webhook is not None
    body = manifest(webhook={"scheme": "none", "event_key": "json:/webhookEvent"})
    assert Manifest.model_validate(body).webhook is not None


def test_sdk_range_outside_this_sdk() -> None:
    assert not Manifest.model_validate(manifest(sdk_api=">=2,<3")).supports_sdk()
