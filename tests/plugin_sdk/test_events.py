from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugin_sdk import Event, EventSource, WebhookDelivery, stable_event_id
from plugin_sdk.events import event_key_of, subject_matches
from plugin_sdk.manifest import WebhookSpec


def test_delivery_drops_auth_headers_and_round_trips_as_json() -> None:
    delivery = WebhookDelivery(
        delivery_id="d-1",
        tenant_id="t",
        instance_id="i",
        headers={
            "Authorization": "Bearer x",
            "X-Hub-Signature": "sha256=00",
            "webhook-signature": "v1,xx",
            "Cookie": "a=b",
            "X-Event-Key": "repo:push",
        },
        body=b'{"a": [1, 2]}\xff'[:-1],
    )
    assert delivery.headers == {"x-event-key": "repo:push"}
    assert delivery.json_body() == {"a": [1, 2]}
    again = WebhookDelivery.model_validate_json(delivery.model_dump_json())
    assert again == delivery


def test_binary_body_survives_json() -> None:
    delivery = WebhookDelivery(delivery_id="d", tenant_id="t", instance_id="i", body=b"\x00\xff")
    assert WebhookDelivery.model_validate_json(delivery.model_dump_json()).body == b"\x00\xff"
    with pytest.raises(ValueError):
        delivery.json_body()


def test_event_subject_is_checked() -> None:
    source = EventSource(plugin="jira", instance_id="i")
    event = Event(subject="review.completed", tenant_id="t", source=source, data={"x": 1})
    assert Event.model_validate_json(event.model_dump_json()) == event
    with pytest.raises(ValidationError, match="not a subject"):
        Event(subject="Review Completed", tenant_id="t", source=source)
    with pytest.raises(ValidationError):
        Event(subject="review.completed", tenant_id="t", source=source, extra=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("review.completed", "review.completed", True),
        ("review.*", "review.completed", True),
        ("review.*", "review.completed.late", False),
        ("jira.>", "jira.issue.updated", True),
        ("jira.>", "jira", False),
        (">", "anything.at.all", True),
        ("a.b", "a", False),
    ],
)
def test_subject_matching(pattern: str, subject: str, matches: bool) -> None:
    assert subject_matches(pattern, subject) is matches


def test_event_key_from_header_or_body() -> None:
    header = WebhookSpec(scheme="none", event_key="header:X-Event-Key")  # type: ignore[arg-type]
    assert (
        event_key_of(header, {"X-EVENT-KEY": "pullrequest:created"}, b"") == "pullrequest:created"
    )
    body = WebhookSpec(scheme="none", event_key="json:/webhookEvent")  # type: ignore[arg-type]
    assert event_key_of(body, {}, b'{"webhookEvent": "jira:issue_updated"}') == "jira:issue_updated"
    assert event_key_of(body, {}, b"not json") is None
    assert event_key_of(body, {}, b'{"webhookEvent": 3}') is None
    assert event_key_of(None, {}, b"{}") is None


def test_stable_event_ids() -> None:
    assert stable_event_id("i", "d") == stable_event_id("i", "d")
    assert stable_event_id("i", "d") != stable_event_id("i", "e")
