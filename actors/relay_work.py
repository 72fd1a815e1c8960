"""What a relay does with one message (plain asyncio; the Ray actor only hosts it)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

from prometheus_client import CollectorRegistry

from actors.handles import TenantClient
from core.bus import (
    H_DELIVERY,
    H_ERROR,
    H_KEY,
    H_KIND,
    H_MAX_ATTEMPTS,
    H_ROUTED,
    H_SUBJECT,
    H_TARGET,
    Bus,
    relay_ack_wait_s,
    relay_consumer,
    relay_consumer_config,
    stream_name,
)
from core.errors import NotFound, PluginAuthFailed, RetryableError
from core.oauth_held import HeldDeliveries
from core.resilience import RetryPolicy, describe_error
from core.settings import Settings
from core.webhooks.deliveries import DeliveryStore
from core.webhooks.metrics import register_metrics
from core.webhooks.models import DeadLetterKind, Delivery
from plugin_sdk.events import Event, WebhookDelivery

log = logging.getLogger(__name__)

_EVENT_NS = uuid.UUID("0b7a4c3e-51a4-4d7e-8f0a-64636f646572")


def event_delivery_id(tenant_id: str, instance_id: str, event_id: str) -> str:
    """Deterministic id of one event's delivery to one consuming instance."""
    return str(uuid.uuid5(_EVENT_NS, f"{tenant_id}/{instance_id}/{event_id}"))


class RelayWork:
    def __init__(
        self, settings: Settings, bus: Bus, deliveries: DeliveryStore, hosts: TenantClient
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.deliveries = deliveries
        self.hosts = hosts
        # deliveries of instances that wait for re-authorization are kept here, not retried
        self.held = HeldDeliveries(deliveries.db)
        self.handler_timeout_s = settings.webhooks.handler_timeout_s
        # how long JetStream waits for an ack before it redelivers; a relay still working on a
        # message tells it so (``in_progress``) every third of this (event_relay.py)
        self.ack_wait_s = relay_ack_wait_s(settings.webhooks)
        # Relay-side outcomes; the ingress's /metrics collects them from every relay.
        self.registry = CollectorRegistry()
        self.metrics = register_metrics(self.registry, namespace="dcoder_relay")

    def _started(self, delivery: Delivery) -> None:
        if delivery.attempts == 1 and delivery.queue_lag_s is not None:
            self.metrics.queue_lag.labels(plugin=delivery.plugin).observe(delivery.queue_lag_s)

    async def subscribe(self, stream: str) -> Any:
        """A pull subscription on the namespace's durable consumer of ``stream``."""
        ns = self.settings.nats.namespace
        js = await self.bus.jetstream()
        # `up` declared it with the stream (core/bus.py); made here only if it is missing
        config = relay_consumer_config(ns, stream, self.ack_wait_s)
        return await js.pull_subscribe(
            self.bus.subjects.relayed(stream), durable=relay_consumer(ns, stream),
            stream=stream_name(ns, stream), config=config,
        )  # fmt: skip

    def _policy(self, msg: Any) -> RetryPolicy:
        raw = (msg.headers or {}).get(H_MAX_ATTEMPTS)
        return RetryPolicy.from_settings(
            self.settings.webhooks, int(raw) if raw and raw.isdigit() else None
        )

    async def handle_webhooks(self, msgs: list[Any]) -> None:
        """Deliver a fetched batch of webhooks, one group per tenant, the groups concurrently."""
        groups: dict[str, list[tuple[Any, WebhookDelivery]]] = {}
        for msg in msgs:
            delivery = WebhookDelivery.model_validate_json(msg.data)
            groups.setdefault(delivery.tenant_id, []).append((msg, delivery))
        results = await asyncio.gather(
            *(self._tenant_webhooks(t, batch) for t, batch in groups.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result  # the caller naks whatever is still unsettled

    async def _tenant_webhooks(
        self, tenant_id: str, batch: list[tuple[Any, WebhookDelivery]]
    ) -> None:
        """Deliver webhooks of one tenant together; settle each message on its own outcome.

        One statement starts them, one tenant-host call runs every handler (each with its own
        timeout), one statement finishes the successful ones: under load this replaces three
        round trips per delivery by three per batch. Failures are settled one by one.
        """
        started = await self.deliveries.mark_processing_many(
            tenant_id, [d.delivery_id for _, d in batch]
        )
        if len(started) < len(batch):
            lost = await self._recorded_again(tenant_id, batch, started)
            if lost:
                started.update(await self.deliveries.mark_processing_many(tenant_id, lost))
        run = []
        for msg, delivery in batch:
            if delivery.delivery_id in started:
                self._started(started[delivery.delivery_id])
                run.append((msg, delivery))
            else:
                await msg.ack()  # already done or dead (a redelivery after a crash)
        if not run:
            return
        try:
            outcomes = await self.hosts.handle_webhooks(
                tenant_id, [d for _, d in run], timeout_s=self.handler_timeout_s + 10
            )
        except Exception as failure:  # noqa: BLE001 - the whole call failed: so did each one
            outcomes = [failure] * len(run)
        done = [d.delivery_id for (_, d), err in zip(run, outcomes, strict=True) if err is None]
        if done:
            await self.deliveries.mark_done_many(tenant_id, done)
        for (msg, delivery), err in zip(run, outcomes, strict=True):
            plugin = started[delivery.delivery_id].plugin
            if err is None:
                self.metrics.record_outcome(plugin, "done")
                await msg.ack()
            else:
                attempt = int(msg.metadata.num_delivered)
                await self._failed(msg, err, attempt, tenant_id, delivery.delivery_id,
                                   delivery.instance_id, "webhook", plugin=plugin)  # fmt: skip

    async def _recorded_again(
        self, tenant_id: str, batch: list[tuple[Any, WebhookDelivery]],
        started: dict[str, Delivery],
    ) -> list[str]:  # fmt: skip
        """Record again the deliveries of this batch that have no row; their ids.

        The ingest commits a delivery's row without waiting for the disk (serve_app/ingest.py),
        so a crash of PostgreSQL can lose the rows of the last moments while their messages,
        acknowledged before the 202, are in JetStream. A message whose row is missing is
        recorded again from what it carries (its idempotency key, ``H_KEY``); without a row it
        would be taken for one already done. A message without the key (published by an older
        version) or whose instance is gone is left to be acknowledged as before.
        """
        waiting = [(m, d) for m, d in batch if d.delivery_id not in started]
        have = await self.deliveries.existing(tenant_id, [d.delivery_id for _, d in waiting])
        again = []
        for msg, delivery in waiting:
            key = (msg.headers or {}).get(H_KEY)
            if delivery.delivery_id in have or not key:
                continue
            try:
                delivery_id, _ = await self.deliveries.record_accepted(
                    tenant_id, delivery.instance_id, key, event_key=delivery.event_key,
                    received_at=delivery.received_at, delivery_id=delivery.delivery_id,
                )  # fmt: skip
            except NotFound:
                continue  # the instance (or the tenant) was deleted meanwhile: nobody to deliver to
            log.warning("delivery %s had no row (lost in a crash of PostgreSQL?): recorded again "
                        "from its message", delivery_id)  # fmt: skip
            again.append(delivery_id)
        return again

    async def handle_event(self, msg: Any) -> None:
        """Deliver one event to every consuming instance of its tenant; settle the message."""
        event = Event.model_validate_json(msg.data)
        attempt = int(msg.metadata.num_delivered)
        headers = msg.headers or {}
        target, routed = headers.get(H_TARGET), headers.get(H_ROUTED)
        try:
            if target:
                targets = [target]
            elif routed is not None:
                targets = [instance for instance in routed.split(",") if instance]
            else:
                targets = await self.hosts.consumers_of(event.tenant_id, event)
        except NotFound:
            await msg.ack()  # the tenant is gone: nobody to deliver to
            return
        except Exception as err:  # noqa: BLE001 - transient: try the whole event again later
            await msg.nak(delay=self._policy(msg).delay(attempt))
            log.warning("event %s: consumers unknown (%s); retrying", event.id, err)
            return
        pending = False
        for instance_id in targets:
            pending |= await self._deliver_event(msg, event, instance_id, attempt)
        if pending:
            await msg.nak(delay=self._policy(msg).delay(attempt))
        else:
            await msg.ack()

    async def _deliver_event(self, msg: Any, event: Event, instance_id: str, attempt: int) -> bool:
        """Deliver to one instance; True when it must be tried again."""
        delivery_id = event_delivery_id(event.tenant_id, instance_id, event.id)
        try:
            await self.deliveries.record_accepted(
                event.tenant_id, instance_id, f"event:{event.id}", event_key=event.subject,
                delivery_id=delivery_id,
            )  # fmt: skip
        except NotFound:
            return False  # the instance was uninstalled meanwhile
        started = await self.deliveries.mark_processing(event.tenant_id, delivery_id)
        if started is None:
            return False  # already done or dead
        self._started(started)
        try:
            await self.hosts.handle_event(
                event.tenant_id, event, instance_id, timeout_s=self.handler_timeout_s + 10
            )
        except Exception as err:  # noqa: BLE001 - classified below
            return await self._failed(msg, err, attempt, event.tenant_id, delivery_id,
                                      instance_id, "event", settle=False,
                                      plugin=started.plugin)  # fmt: skip
        await self.deliveries.mark_done(event.tenant_id, delivery_id)
        self.metrics.record_outcome(started.plugin, "done")
        return False

    async def _failed(
        self, msg: Any, err: BaseException, attempt: int, tenant_id: str, delivery_id: str,
        instance_id: str, kind: DeadLetterKind, *, settle: bool = True, plugin: str = "unknown",
    ) -> bool:  # fmt: skip
        """Retry later, keep until re-authorized, or dead-letter; True when a retry is pending."""
        policy = self._policy(msg)
        error = describe_error(err)
        decision = policy.decide(err, attempt)
        if isinstance(err, PluginAuthFailed):
            if await self._hold(msg, error, tenant_id, delivery_id, instance_id, kind):
                if settle:
                    await msg.ack()  # the message is kept in PostgreSQL until re-authorization
                return False
            # credentials refused but the instance is not waiting (any more): an ordinary retry
            decision = policy.decide(RetryableError(error), attempt)
        if decision == "retry":
            delay = policy.delay(attempt)
            next_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
            await self.deliveries.mark_retrying(tenant_id, delivery_id, error, next_at)
            self.metrics.record_outcome(plugin, "retrying")
            if settle:
                await msg.nak(delay=delay)
            return True
        headers = {H_KIND: kind, H_ERROR: error[:500], H_DELIVERY: delivery_id,
                   H_TARGET: instance_id, H_SUBJECT: msg.subject}  # fmt: skip
        await self.bus.publish(
            self.bus.subjects.dead_letter(tenant_id), msg.data, headers=headers,
            msg_id=f"dead:{delivery_id}:{attempt}",
        )  # fmt: skip
        original = {k: v for k, v in (msg.headers or {}).items() if k != "Nats-Msg-Id"}
        await self.deliveries.mark_dead(
            tenant_id, delivery_id, error, bytes(msg.data), {**original, **headers}, kind
        )
        self.metrics.record_outcome(plugin, "dead")
        log.warning("delivery %s dead after %d attempts: %s", delivery_id, attempt, error)
        if settle:
            await msg.term()
        return False

    async def _hold(
        self, msg: Any, error: str, tenant_id: str, delivery_id: str, instance_id: str,
        kind: DeadLetterKind,
    ) -> bool:  # fmt: skip
        """Keep the message of an instance in ``needs_reauth``; False when it is not in it."""
        original = {k: v for k, v in (msg.headers or {}).items() if k != "Nats-Msg-Id"}
        headers = {**original, H_KIND: kind, H_DELIVERY: delivery_id, H_TARGET: instance_id}
        reason = f"kept until the instance is re-authorized: {error}"
        message = (str(msg.subject), bytes(msg.data), headers)
        kept = await self.held.hold(tenant_id, instance_id, delivery_id, message, reason)
        if kept:
            log.info("delivery %s kept: instance %s needs re-authorization", delivery_id,
                     instance_id)  # fmt: skip
        return kept
