"""The JetStream layer: every stream and subject is written here and nowhere else.

Subjects carry a namespace prefix (``DCODER_NATS_NAMESPACE``) so several environments can share
one NATS. Streams are created idempotently at start: an existing stream with our config is left
alone, one with a different config is updated.

The two relayed streams (webhook deliveries, plugin events) keep a message only while the relays'
durable consumer has not acknowledged it (interest retention): once a delivery is settled (done,
or dead-lettered with its own copy in the DLQ stream) JetStream deletes it. With limits retention
they kept every message for 7 days, so NATS's disk use, and its memory with it, grew with the
traffic of the whole week (100,000 settled 1 KB messages: 100 MB on disk and 195 MiB of private
memory with limits retention, nothing and 49 MiB with interest). Interest retention drops a
message nobody consumes, so the relays' consumers are declared together with the streams, before
anything can publish; ``max_age`` stays as an outer bound for a delivery nobody settles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    PubAck,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from core.errors import BusError, DependencyUnavailable
from core.logging import redact_text
from core.settings import NatsSettings, WebhookSettings

# Event types the platform sends to one plugin instance only (the relay routes them to it alone):
# the end of a background job it submitted, and a tick of one of its schedules.
JOB_COMPLETED = "job.completed"
JOB_FAILED = "job.failed"
SCHEDULE_FIRED = "schedule.fired"
PLATFORM_SOURCE = "dcoder-platform"
"""``EventSource.plugin`` of events the platform itself publishes (no plugin has this name)."""
PLATFORM_EVENT_PREFIXES = ("job.", "schedule.")
"""Event types only the platform publishes (a plugin may not declare them in ``emits``)."""

# Headers the platform sets on bus messages (every ``Dcoder-*`` name is written here only).
H_PREFIX = "Dcoder-"
H_KIND = "Dcoder-Kind"
H_ERROR = "Dcoder-Error"
H_DELIVERY = "Dcoder-Delivery-Id"
H_TARGET = "Dcoder-Target-Instance"
"""The one instance an event goes to (job ends, schedule ticks, replayed dead letters)."""
# Set by the tenant host when a plugin publishes an event: the comma-separated instances that
# consume it at that moment (empty: none). The relay then needs no routing call per event; an
# event without it (published by an older version) is routed when it is dispatched.
H_ROUTED = "Dcoder-Routed-To"
H_MAX_ATTEMPTS = "Dcoder-Max-Attempts"
H_SUBJECT = "Dcoder-Subject"
H_KEY = "Dcoder-Idempotency-Key"
"""On a webhook message: its delivery's idempotency key, so a relay can record the delivery again
should its row be missing (the ingest commits the row without waiting for the disk)."""

WEBHOOKS = "WEBHOOKS"
EVENTS = "EVENTS"
RELAYED_STREAMS = (WEBHOOKS, EVENTS)
"""The streams the event relays consume (by their short names)."""


def stream_name(namespace: str, stream: str) -> str:
    """The JetStream stream of a namespace, e.g. ``DCODER_WEBHOOKS`` for ``WEBHOOKS``."""
    return f"{namespace.upper()}_{stream}"


def relay_consumer(namespace: str, stream: str) -> str:
    """The durable consumer every relay of a namespace shares on ``stream``."""
    return f"{namespace}-relay-{stream.lower()}"


def relay_ack_wait_s(webhooks: WebhookSettings) -> float:
    """How long JetStream waits for a relay's ack before it redelivers a message.

    A relay still working on a message tells JetStream so (``in_progress``) every third of this.
    """
    return webhooks.handler_timeout_s * 2 + 30


def relay_consumer_config(namespace: str, stream: str, ack_wait_s: float) -> ConsumerConfig:
    """The relays' durable consumer of ``stream``: every message, acknowledged one by one."""
    return ConsumerConfig(
        durable_name=relay_consumer(namespace, stream),
        filter_subject=Subjects(namespace).relayed(stream),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait_s,
        max_deliver=-1,
        max_ack_pending=1000,
    )  # fmt: skip


@dataclass(frozen=True)
class Subjects:
    """Subject names of one namespace."""

    namespace: str

    def webhook(self, tenant_id: str, instance_id: str) -> str:
        """A verified webhook delivery for one plugin instance."""
        return f"{self.namespace}.webhooks.{tenant_id}.{instance_id}"

    def event(self, tenant_id: str, event_type: str) -> str:
        """An event a plugin published (``event_type`` like ``review.completed``)."""
        return f"{self.namespace}.events.{tenant_id}.{event_type}"

    def dead_letter(self, tenant_id: str) -> str:
        return f"{self.namespace}.dlq.{tenant_id}"

    def audit(self, tenant_id: str) -> str:
        return f"{self.namespace}.audit.{tenant_id}"

    @property
    def all_webhooks(self) -> str:
        return f"{self.namespace}.webhooks.>"

    @property
    def all_events(self) -> str:
        return f"{self.namespace}.events.>"

    def relayed(self, stream: str) -> str:
        """The subjects of one relayed stream (``WEBHOOKS`` or ``EVENTS``)."""
        return self.all_webhooks if stream == WEBHOOKS else self.all_events


RELAYED_MAX_AGE_DAYS = 7
"""The longest a webhook or event waits in its stream unsettled (retries included)."""


def stream_configs(settings: NatsSettings) -> dict[str, StreamConfig]:
    """The streams of one namespace, by name."""
    ns = settings.namespace
    window = float(settings.duplicate_window_s)
    day = 24 * 3600.0
    relayed_max_age = RELAYED_MAX_AGE_DAYS * day
    return {
        stream_name(ns, WEBHOOKS): StreamConfig(
            name=stream_name(ns, WEBHOOKS), subjects=[f"{ns}.webhooks.>"],
            retention=RetentionPolicy.INTEREST, storage=StorageType.FILE,
            max_age=relayed_max_age, duplicate_window=window,
            description="verified webhook deliveries, one subject per tenant and instance",
        ),
        stream_name(ns, EVENTS): StreamConfig(
            name=stream_name(ns, EVENTS), subjects=[f"{ns}.events.>"],
            retention=RetentionPolicy.INTEREST, storage=StorageType.FILE,
            max_age=relayed_max_age, duplicate_window=window,
            description="events plugins publish for other plugins of the same tenant",
        ),
        stream_name(ns, "DLQ"): StreamConfig(
            name=stream_name(ns, "DLQ"), subjects=[f"{ns}.dlq.>"],
            retention=RetentionPolicy.LIMITS, storage=StorageType.FILE, max_age=30 * day,
            duplicate_window=120.0,
            description="deliveries and events that exhausted their retries",
        ),
        stream_name(ns, "AUDIT"): StreamConfig(
            name=stream_name(ns, "AUDIT"), subjects=[f"{ns}.audit.>"],
            retention=RetentionPolicy.LIMITS, storage=StorageType.FILE, max_age=90 * day,
            duplicate_window=120.0,
            description="audit events of lifecycle changes",
        ),
    }  # fmt: skip


def _differs(wanted: StreamConfig, current: StreamConfig) -> bool:
    fields = ("subjects", "retention", "storage", "max_age", "duplicate_window", "description")
    return any(getattr(wanted, f) != getattr(current, f) for f in fields)


async def ensure_streams(
    js: JetStreamContext, settings: NatsSettings, ack_wait_s: float | None = None
) -> list[str]:
    """Create or update our streams and the relays' consumers; return the streams changed.

    A relayed stream's consumer exists before the stream is switched to interest retention
    (an older install's limits stream) and right after a new stream is made, so no accepted
    delivery is published into a stream without its consumer; an existing one whose settings
    differ is updated (the relays bind to it). ``ack_wait_s`` defaults to the default webhook
    settings'.
    """
    wait = relay_ack_wait_s(WebhookSettings()) if ack_wait_s is None else ack_wait_s
    relayed = {stream_name(settings.namespace, s): s for s in RELAYED_STREAMS}
    changed = []
    for name, config in stream_configs(settings).items():
        try:
            info = await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(config)
            changed.append(name)
            info = None
        if name in relayed:
            await _ensure_consumer(js, name, relay_consumer_config(
                settings.namespace, relayed[name], wait
            ))  # fmt: skip
        if info is not None and _differs(config, info.config):
            await js.update_stream(config)
            changed.append(name)
    return changed


_CONSUMER_FIELDS = ("filter_subject", "ack_wait", "max_ack_pending", "max_deliver")


async def _ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Create the consumer, or bring an existing one's settings in line (e.g. a new ack wait
    after ``DCODER_WEBHOOKS_HANDLER_TIMEOUT_S`` changed); its unacknowledged messages stay."""
    try:
        info = await js.consumer_info(stream, str(config.durable_name))
    except NotFoundError:
        await js.add_consumer(stream, config)
        return
    if any(getattr(info.config, f) != getattr(config, f) for f in _CONSUMER_FIELDS):
        await js.add_consumer(stream, config)  # an update of the same durable consumer


class Bus:
    """One NATS connection with JetStream, reconnecting forever in the background."""

    def __init__(self, url: str, settings: NatsSettings | None = None) -> None:
        self.url = url
        self.settings = settings or NatsSettings()
        self.subjects = Subjects(self.settings.namespace)
        self._nc: NatsClient | None = None
        self._lock = asyncio.Lock()

    async def connect(self) -> NatsClient:
        """The connection, established on first use."""
        if self._nc is None:
            async with self._lock:
                if self._nc is None:
                    try:
                        self._nc = await nats.connect(
                            self.url,
                            connect_timeout=self.settings.connect_timeout_s,
                            max_reconnect_attempts=-1,
                            reconnect_time_wait=0.5,
                            allow_reconnect=True,
                        )
                    except (OSError, NatsError, TimeoutError) as err:
                        raise DependencyUnavailable(
                            # /readyz shows this: never the URL's password
                            f"NATS unreachable at {redact_text(self.url)}: {err!r}"
                        ) from err
        return self._nc

    async def jetstream(self) -> JetStreamContext:
        return (await self.connect()).jetstream(timeout=self.settings.connect_timeout_s)

    async def ensure_streams(self, ack_wait_s: float | None = None) -> list[str]:
        return await ensure_streams(await self.jetstream(), self.settings, ack_wait_s)

    async def publish(
        self,
        subject: str,
        payload: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 5.0,
    ) -> PubAck:
        """Publish to JetStream and wait for the ack (durable once this returns)."""
        js = await self.jetstream()
        hdrs = dict(headers or {})
        if msg_id:
            hdrs["Nats-Msg-Id"] = msg_id
        try:
            return await js.publish(subject, payload, timeout=timeout_s, headers=hdrs or None)
        except (NatsError, TimeoutError, OSError) as err:
            raise BusError(f"publish to {subject} not acknowledged: {err!r}") from err

    async def ping(self, timeout_s: float = 2.0) -> None:
        """Raise DependencyUnavailable unless JetStream answers within the timeout."""
        nc = await self.connect()
        if not nc.is_connected:
            raise DependencyUnavailable("NATS disconnected (reconnecting)")
        try:
            await (await self.jetstream()).account_info()
        except (NatsError, TimeoutError, OSError) as err:
            raise DependencyUnavailable(f"JetStream unreachable: {err!r}") from err

    async def close(self) -> None:
        if self._nc is not None:
            nc, self._nc = self._nc, None
            await nc.close()
