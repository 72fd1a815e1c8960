"""Webhook ingest: size limit, rate limit, signature check on the raw body, durable enqueue.

Order matters: admission first (past the replica's in-flight bound a 503 goes out before the
body is read, see serve_app/admission.py), nothing about the body is parsed, logged or queued
before its signature verifies, and the 202 goes out only after JetStream acknowledged the
delivery (it is durable then).
The delivery id is derived from the idempotency key, so a repeated delivery gets the same id and
JetStream's message-id de-duplication drops it; the ``deliveries`` table catches repeats that
come after JetStream's window.

The delivery row is committed without waiting for PostgreSQL's WAL flush (its own pool, with
``synchronous_commit = off``): the JetStream message, acknowledged before the 202, is the durable
copy, and carries the idempotency key (``H_KEY``) so that a relay records the delivery again
should a crash of PostgreSQL lose its row (actors/relay_work.py). Waiting for the flush put the
disk's occasional slow syncs (10-20 ms, every few seconds) into every request queued meanwhile:
clusters of 40-90 ms requests, the ingest's p99 (issue #19).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request

from actors.handles import TenantClient
from actors.pacing import PressureReport, pressure_subject
from core import json_input
from core.bus import H_KEY, H_MAX_ATTEMPTS, Bus
from core.errors import (
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from core.settings import WebhookSettings
from core.webhooks.deliveries import DeliveryStore
from core.webhooks.ratelimit import TenantRateLimiter
from core.webhooks.verify import idempotency_key, verify_delivery
from plugin_sdk.events import WebhookDelivery, event_key_of, strip_auth_headers
from plugin_sdk.manifest import WebhookSpec
from serve_app.admission import Admission
from serve_app.retry_window import RetrySteering, RetryWindow

if TYPE_CHECKING:
    from serve_app.metrics import ApiMetrics

log = logging.getLogger(__name__)

_DELIVERY_NS = uuid.UUID("6f1c0e1e-3a57-4c1b-9d8e-64636f646572")
PROFILE_TTL_S = 2.0
"""Seconds a replica trusts a cached instance profile (a change elsewhere shows within this);
it looks the profile up again in the background once half of it has passed."""


@dataclass
class Accepted:
    delivery_id: str
    duplicate: bool
    plugin: str


def delivery_id_for(tenant_id: str, instance_id: str, key: str) -> str:
    """Deterministic: the same delivery always gets the same id."""
    return str(uuid.uuid5(_DELIVERY_NS, f"{tenant_id}/{instance_id}/{key}"))


def _json_content_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class WebhookIngest:
    """One per replica: caches instance profiles briefly, limits rates, verifies, enqueues."""

    def __init__(
        self, settings: WebhookSettings, hosts: TenantClient, bus: Bus, deliveries: DeliveryStore,
        metrics: ApiMetrics | None = None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.hosts = hosts
        self.bus = bus
        self.deliveries = deliveries
        self.metrics = metrics
        self.limiter = TenantRateLimiter.from_settings(settings)
        # the Retry-After spread of every 503 shed under overload, widened while it lasts
        self.retry_window = RetryWindow(
            settings.overload_retry_spread_s, settings.overload_retry_spread_max_s
        )
        self.admission = Admission(
            settings.max_inflight, settings.overload_retry_after_s,
            metrics.ingest_inflight if metrics else None,
            metrics.ingest_inflight_limit if metrics else None,
            retry_spread=lambda: self.retry_window.seconds,
        )  # fmt: skip
        self.steering = RetrySteering(self.retry_window, self.admission)
        if metrics is not None:
            metrics.retry_spread.set_function(lambda: self.retry_window.seconds)
        self.profile_ttl_s = PROFILE_TTL_S
        self._profiles: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._fetching: dict[tuple[str, str], asyncio.Future[dict[str, Any]]] = {}
        # what this replica tells the relays about its ingest, so dispatch yields to it
        self.pressure = PressureReport(f"{os.uname().nodename}:{os.getpid()}")

    async def read_body(self, request: Request) -> bytes:
        """The raw body, refusing more than max_body_bytes without reading it all."""
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"body larger than {limit} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"body larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def profile(self, tenant_id: str, instance_id: str) -> dict[str, Any]:
        """The instance's verification profile (cached briefly); 404 unless it takes webhooks.

        A profile is used for at most ``profile_ttl_s`` after its lookup began. Past half of
        that, the next request starts a new lookup in the background and still uses the cached
        one: while webhooks keep coming, none waits for the tenant host (issue #19: every 2 s
        the requests that arrived during the lookup waited for it, tens of milliseconds when
        the host was busy dispatching, a share of the ingest p99).
        """
        now = time.monotonic()
        key = (tenant_id, instance_id)
        cached = self._profiles.get(key)
        if cached is not None and now - cached[0] <= self.profile_ttl_s:
            if now - cached[0] > self.profile_ttl_s / 2 and key not in self._fetching:
                self._lookup(key)  # refresh ahead
            return cached[1]
        # One lookup per instance at a time, shared by every request that needs it meanwhile
        # (shielded: a request cancelled by its client does not cancel the others' lookup).
        # Without it, while the tenant host is slow every admitted request sent its own call,
        # and each request its client gave up on freed its slot for one more (issue #19).
        return await asyncio.shield(self._fetching.get(key) or self._lookup(key))

    def _lookup(self, key: tuple[str, str]) -> asyncio.Future[dict[str, Any]]:
        fetch = self._fetching[key] = asyncio.ensure_future(self._fetch_profile(*key))
        fetch.add_done_callback(self._fetched)
        return fetch

    def _fetched(self, fetch: asyncio.Future[dict[str, Any]]) -> None:
        self._fetching = {k: f for k, f in self._fetching.items() if f is not fetch}
        if not fetch.cancelled():
            fetch.exception()  # retrieved: every waiter may have been cancelled meanwhile

    async def _fetch_profile(self, tenant_id: str, instance_id: str) -> dict[str, Any]:
        now = time.monotonic()
        try:
            found = await self.hosts.ingest_profile(tenant_id, instance_id)
        except NotFound:
            found = None
        if found is None:
            # Same answer for unknown tenant, unknown instance and disabled plugin; not cached,
            # so enabling takes effect at once (and a profile cached before is dropped now).
            self._profiles.pop((tenant_id, instance_id), None)
            raise NotFound("no webhook endpoint here")
        if len(self._profiles) > 10_000:
            self._profiles.clear()
        # parsed once per profile, not once per request
        found = {**found, "webhook_spec": WebhookSpec.model_validate(found["spec"])}
        self._profiles[(tenant_id, instance_id)] = (now, found)
        return found

    def cached_plugin(self, tenant_id: str, instance_id: str) -> str | None:
        """The plugin of a cached profile (for metric labels of refused deliveries)."""
        cached = self._profiles.get((tenant_id, instance_id))
        return None if cached is None else str(cached[1]["plugin"])

    def forget(self, tenant_id: str, instance_id: str) -> None:
        """Drop a cached profile (after a lifecycle change made through this replica)."""
        self._profiles.pop((tenant_id, instance_id), None)

    def forget_tenant(self, tenant_id: str) -> None:
        """Drop every cached profile of a tenant (after its deletion through this replica)."""
        for key in [k for k in self._profiles if k[0] == tenant_id]:
            self._profiles.pop(key, None)

    async def accept(self, tenant_id: str, instance_id: str, request: Request) -> Accepted:
        """Admit, verify and durably enqueue one delivery (503 past the in-flight bound)."""
        self.steering.start()
        if not self.admission.enter():
            if self.metrics is not None:
                plugin = self.cached_plugin(tenant_id, instance_id) or "unknown"
                self.metrics.webhooks.record_outcome(plugin, "shed")
            raise self.admission.refusal()
        started = time.perf_counter()
        writes: list[asyncio.Future[Accepted]] = []
        try:
            return await self._accept(tenant_id, instance_id, request, writes)
        finally:
            if writes and not writes[0].done():
                # its client left (Serve cancels the request) during the durable write: the
                # write finishes, and holds its slot until then (the bound covers it)
                writes[0].add_done_callback(self._finished_alone)
            else:
                self.admission.leave()
            await self._report(time.perf_counter() - started)

    def _finished_alone(self, write: asyncio.Future[Accepted]) -> None:
        self.admission.leave()
        if not write.cancelled() and write.exception() is not None:  # a retry publishes it
            log.info("webhook of a request cut off by its client: %r", write.exception())

    async def _report(self, seconds: float) -> None:
        """Fold in one request's latency; tell the relays now and then (actors/pacing.py)."""
        self.pressure.observe(seconds)
        if not self.pressure.due(time.monotonic()):
            return
        payload = self.pressure.payload(self.admission.inflight, self.admission.limit)
        # core NATS, buffered, never waits for an answer; losing a report only delays pacing
        with contextlib.suppress(Exception):
            nc = await self.bus.connect()
            await nc.publish(pressure_subject(self.bus.settings.namespace), payload)

    async def _accept(
        self, tenant_id: str, instance_id: str, request: Request,
        writes: list[asyncio.Future[Accepted]],
    ) -> Accepted:  # fmt: skip
        self.limiter.check(tenant_id, time.monotonic())
        body = await self.read_body(request)
        profile = await self.profile(tenant_id, instance_id)
        headers = dict(request.headers)
        verify_delivery(
            profile["scheme"], profile["secrets"], method=request.method, path=request.url.path,
            query=request.url.query, headers=headers, body=body, now=time.time(),
            tolerance_s=self.settings.tolerance_s,
        )  # fmt: skip
        if not _json_content_type(headers.get("content-type", "")):
            raise UnsupportedMediaType(
                "webhook bodies must be JSON (Content-Type application/json)"
            )
        if not isinstance(json_input.parse(body), dict | list):
            raise ValidationFailed(
                "a webhook body must be a JSON object or array",
                errors=[{"pointer": "", "location": "body", "detail": "not an object or array"}],
            )
        key = idempotency_key(headers, body)
        spec: WebhookSpec = profile["webhook_spec"]
        event_key = event_key_of(spec, headers, body)
        if event_key is not None and "\x00" in event_key:  # PostgreSQL text refuses NUL
            raise ValidationFailed(
                f"the event key ({spec.event_key}) holds a NUL character",
                errors=[{"pointer": "", "location": "body", "detail": "NUL in the event key"}],
            )
        # Once the row is being written, the write and the publish finish even if the client
        # leaves (issue #19: under overload, requests cut off between the INSERT and the publish
        # left more rows 'accepted' without a message than were delivered, their work lost;
        # the sender's retry now finds the delivery on its way and gets 200).
        write = asyncio.ensure_future(
            self._enqueue(tenant_id, instance_id, key, event_key, headers, body, profile)
        )
        writes.append(write)
        return await asyncio.shield(write)

    async def _enqueue(
        self, tenant_id: str, instance_id: str, key: str, event_key: str | None,
        headers: dict[str, str], body: bytes, profile: dict[str, Any],
    ) -> Accepted:  # fmt: skip
        """Record the delivery, then publish it (JetStream acknowledged: durable)."""
        delivery_id, is_new = await self.deliveries.record_accepted(
            tenant_id, instance_id, key, event_key=event_key,
            delivery_id=delivery_id_for(tenant_id, instance_id, key),
        )  # fmt: skip
        # "accepted" may mean the first attempt's publish failed: publishing again is safe (the
        # message id makes JetStream drop a copy it already has).
        if not is_new and (await self.deliveries.get(tenant_id, delivery_id)).status != "accepted":
            return Accepted(delivery_id, duplicate=True, plugin=profile["plugin"])
        delivery = WebhookDelivery(
            delivery_id=delivery_id, tenant_id=tenant_id, instance_id=instance_id,
            event_key=event_key, headers=strip_auth_headers(headers),
            body=body,
        )  # fmt: skip
        headers_out = {H_MAX_ATTEMPTS: str(profile["max_attempts"] or ""), H_KEY: key}
        ack = await self.bus.publish(
            self.bus.subjects.webhook(tenant_id, instance_id),
            delivery.model_dump_json().encode(),
            msg_id=delivery_id,
            headers=headers_out,
        )
        return Accepted(
            delivery_id, duplicate=not is_new or bool(ack.duplicate), plugin=profile["plugin"]
        )
