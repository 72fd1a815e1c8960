"""Rows of the delivery log as the operator/tenant API returns them (JSON-serialisable)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, computed_field

DeliveryStatus = Literal["accepted", "processing", "done", "retrying", "dead"]
DeadLetterKind = Literal["webhook", "event"]


class Delivery(BaseModel):
    """One delivery's status, attempts, last error and timings (as the API returns it)."""

    model_config = ConfigDict(frozen=True)

    id: str
    tenant_id: str
    instance_id: str
    plugin: str
    idempotency_key: str
    event_key: str | None
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    received_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def queue_lag_s(self) -> float | None:
        """Seconds from receipt to the first handler start."""
        return None if self.started_at is None else _seconds(self.received_at, self.started_at)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_s(self) -> float | None:
        """Seconds from receipt to done or dead."""
        return None if self.finished_at is None else _seconds(self.received_at, self.finished_at)


class DeadLetter(BaseModel):
    """A message that exhausted its retries (listing: without the payload itself)."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    id: str
    delivery_id: str
    tenant_id: str
    instance_id: str
    plugin: str
    kind: DeadLetterKind
    headers: dict[str, str]
    last_error: str | None
    attempts: int
    dead_at: datetime
    replayed_at: datetime | None
    payload_bytes: int


class DeadLetterWithPayload(DeadLetter):
    """A dead letter with the original message as published (base64 in JSON)."""

    payload: bytes


def _seconds(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds(), 6)
