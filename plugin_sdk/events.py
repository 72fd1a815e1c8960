"""Typed messages a plugin receives and publishes: ``WebhookDelivery`` and ``Event``."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from plugin_sdk.jsonpointer import PointerError, resolve_pointer
from plugin_sdk.manifest import NAME_RE, SUBJECT_RE, WebhookSpec

# Headers that carry credentials or signatures. The ingress verifies them and drops them before
# a delivery is queued; the model drops them again so no plugin (or log line) ever sees one.
AUTH_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "x-hub-signature",
        "x-hub-signature-256",
        "webhook-signature",
        "x-atlassian-token",
    }
)


def strip_auth_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case header names and drop credential and signature headers."""
    return {k.lower(): v for k, v in headers.items() if k.lower() not in AUTH_HEADERS}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookDelivery(BaseModel):
    """One verified webhook request, as queued by the ingress for a plugin instance."""

    # bytes travel as base64 in JSON so a delivery round-trips through the bus unchanged
    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    delivery_id: str = Field(min_length=1, max_length=200, description="unique per delivery")
    tenant_id: str = Field(min_length=1)
    instance_id: str = Field(min_length=1)
    event_key: str | None = Field(default=None, description="e.g. 'jira:issue_updated'")
    headers: dict[str, str] = Field(default_factory=dict, description="lower-case, no auth headers")
    body: bytes = b""
    received_at: datetime = Field(default_factory=_utc_now)

    @field_validator("headers", mode="before")
    @classmethod
    def _no_auth_headers(cls, value: Any) -> Any:
        return strip_auth_headers(value) if isinstance(value, Mapping) else value

    def json_body(self) -> Any:
        """The body parsed as JSON (``ValueError`` if it is not JSON)."""
        return json.loads(self.body)


class EventSource(BaseModel):
    """Which plugin instance published an event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plugin: str = Field(pattern=NAME_RE)
    instance_id: str = Field(min_length=1)


class Event(BaseModel):
    """An event on the bus, e.g. subject ``review.completed``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=200)
    subject: str = Field(description="dot-separated type, e.g. 'review.completed'")
    tenant_id: str = Field(min_length=1)
    source: EventSource
    data: dict[str, Any] = Field(default_factory=dict)
    correlation_id: str | None = Field(
        default=None, description="id shared by everything one cause did"
    )
    causation_id: str | None = Field(
        default=None, description="id of the event or delivery that caused it"
    )
    time: datetime = Field(default_factory=_utc_now)

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if not re.match(SUBJECT_RE, value):
            raise ValueError(f"{value!r} is not a subject like 'review.completed'")
        return value


def stable_event_id(*parts: str) -> str:
    """A deterministic event id from its causes, so a redelivery publishes the same id (dedupe)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "dcoder-event:" + "\x1f".join(parts)))


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS-style match: ``*`` matches one token, a final ``>`` one or more."""
    pat, sub = pattern.split("."), subject.split(".")
    for i, token in enumerate(pat):
        if token == ">":
            return len(sub) > i
        if i >= len(sub) or (token != "*" and token != sub[i]):
            return False
    return len(pat) == len(sub)


def event_key_of(spec: WebhookSpec | None, headers: Mapping[str, str], body: bytes) -> str | None:
    """The event key of a webhook per the manifest's ``webhook.event_key`` (``None`` if absent).

    The ingress and the test harness both use this, so plugins see the same key in tests.
    """
    if spec is None or spec.event_key is None:
        return None
    source, _, where = spec.event_key.partition(":")
    if source == "header":
        lowered = {k.lower(): v for k, v in headers.items()}
        return lowered.get(where.lower())
    try:
        value = resolve_pointer(json.loads(body), where)
    except (ValueError, PointerError):  # not JSON, or no such field: no key
        return None
    return value if isinstance(value, str) else None
