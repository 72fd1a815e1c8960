"""Outbound webhooks of every simulator: registered hooks, signed deliveries, retries, a log.

Usage (any simulator)::

    sender = WebhookSender()                       # one per app (or shared by the combined app)
    hook = sender.register("jira", url, secret="s3cret", events={"jira:issue_updated"})
    sender.emit("jira", "jira:issue_updated", payload)   # schedules deliveries, returns at once
    await sender.drain()                           # same loop: wait until all have settled
    sender.wait_settled(5.0)                       # other thread (tests): same, blocking
    sender.deliveries()                            # the log: one Delivery per (hook, event)

Headers per product follow what the real products send (see docs/simulators-bitbucket.md).
``app.include_router(sender.router())`` exposes the log at ``/_sim/webhooks/...``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import anyio.from_thread
import httpx
from fastapi import APIRouter, Response

from core.signing import sign_hub_signature

Product = Literal["bitbucket-cloud", "bitbucket-dc", "jira", "confluence"]
USER_AGENTS: dict[Product, str] = {
    "bitbucket-cloud": "Bitbucket-Webhooks/2.0",
    "bitbucket-dc": "Atlassian HttpClient 4.2.0 / Bitbucket-9.5.2 (9005002) / Default",
    "jira": "Atlassian Webhook HTTP Client",
    "confluence": "Atlassian Webhook HTTP Client",
}
RETRYABLE_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a delivery is tried: bounded attempts with exponential backoff."""

    max_attempts: int = 3  # first attempt included
    backoff_s: float = 0.2  # wait before the 2nd attempt; doubles after
    max_backoff_s: float = 5.0  # cap on one wait
    timeout_s: float = 10.0  # per-attempt HTTP timeout


@dataclass
class Hook:
    """One subscription: where to POST which events, signed with which secret."""

    uuid: str
    product: Product
    url: str
    secret: str | None = None
    events: frozenset[str] = frozenset()  # empty: every event
    scope: str = ""  # e.g. "workspace/repo"; empty: every scope
    description: str = ""
    active: bool = True

    def wants(self, product: Product, event: str, scope: str) -> bool:
        """Whether this hook subscribes to ``event`` of ``product`` in ``scope``."""
        return (
            self.active
            and self.product == product
            and (not self.events or event in self.events)
            and (not self.scope or self.scope == scope)
        )


@dataclass
class Attempt:
    """One HTTP try of a delivery."""

    number: int
    headers: dict[str, str]
    status: int | None = None
    error: str | None = None
    at: float = field(default_factory=time.time)


@dataclass
class Delivery:
    """One event sent to one hook, with every attempt made."""

    id: str
    hook_uuid: str
    product: Product
    event: str
    url: str
    body: bytes
    attempts: list[Attempt] = field(default_factory=list)
    state: Literal["pending", "delivered", "failed"] = "pending"

    def payload(self) -> Any:
        """The JSON payload that was sent."""
        return json.loads(self.body)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly view for the ``/_sim`` log."""
        data = asdict(self)
        data["body"] = self.payload()
        return data


def delivery_headers(hook: Hook, delivery: Delivery, attempt: int) -> dict[str, str]:
    """The headers the real product sends for ``attempt`` (1-based) of ``delivery``."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENTS[hook.product]}
    if hook.product == "bitbucket-cloud":
        headers |= {
            "X-Event-Key": delivery.event,
            "X-Hook-UUID": hook.uuid,
            "X-Request-UUID": delivery.id,
            "X-Attempt-Number": str(attempt),
        }
    elif hook.product == "bitbucket-dc":
        headers |= {"X-Event-Key": delivery.event, "X-Request-Id": delivery.id}
    else:  # Jira and Confluence: identifier stable across retries, retry count from the 2nd on
        headers |= {"X-Atlassian-Webhook-Identifier": delivery.id}
        headers["X-Atlassian-Webhook-Flow"] = "Primary"
        if attempt > 1:
            headers["X-Atlassian-Webhook-Retry"] = str(attempt - 1)
    if hook.secret:
        headers["X-Hub-Signature"] = sign_hub_signature(hook.secret, delivery.body)
    return headers


class WebhookSender:
    """Registered hooks plus an async, retrying, logged delivery of events to them."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self._hooks: dict[str, Hook] = {}
        self._log: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._cond = threading.Condition()

    # --- subscriptions ---------------------------------------------------------------------------
    def register(
        self,
        product: Product,
        url: str,
        *,
        secret: str | None = None,
        events: Iterable[str] = (),
        scope: str = "",
        description: str = "",
    ) -> Hook:
        """Subscribe ``url`` to ``events`` (all when empty) of ``product``."""
        hook = Hook(
            uuid="{" + str(uuid.uuid4()) + "}",
            product=product,
            url=url,
            secret=secret or None,
            events=frozenset(events),
            scope=scope,
            description=description,
        )
        self._hooks[hook.uuid] = hook
        return hook

    def get(self, hook_uuid: str) -> Hook | None:
        """The hook with this uuid, if registered."""
        return self._hooks.get(hook_uuid)

    def unregister(self, hook_uuid: str) -> bool:
        """Remove a hook; False when it did not exist."""
        return self._hooks.pop(hook_uuid, None) is not None

    def hooks(self, product: Product | None = None, scope: str | None = None) -> list[Hook]:
        """Registered hooks, optionally only one product's / one scope's."""
        return [
            hook
            for hook in self._hooks.values()
            if (product is None or hook.product == product)
            and (scope is None or hook.scope == scope)
        ]

    # --- sending ---------------------------------------------------------------------------------
    def emit(
        self, product: Product, event: str, payload: Mapping[str, Any], scope: str = ""
    ) -> list[Delivery]:
        """Schedule one delivery per matching hook; returns them at once.

        Works from the event loop, from a FastAPI sync handler (an anyio worker thread: the
        deliveries are scheduled on the app's loop) and from plain code without a loop (then the
        deliveries run to completion before this returns).
        """
        body = json.dumps(payload, separators=(",", ":")).encode()
        pairs = []
        for hook in list(self._hooks.values()):
            if hook.wants(product, event, scope):
                delivery = Delivery(str(uuid.uuid4()), hook.uuid, product, event, hook.url, body)
                with self._cond:
                    self._log.append(delivery)
                pairs.append((hook, delivery))
        if pairs:
            self._schedule_from_anywhere(pairs)
        return [delivery for _, delivery in pairs]

    def _schedule_from_anywhere(self, pairs: list[tuple[Hook, Delivery]]) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            self._schedule(pairs)
            return
        try:
            anyio.from_thread.run_sync(self._schedule, pairs)
        except RuntimeError:  # no loop anywhere: deliver now, synchronously
            asyncio.run(self._deliver_all(pairs))

    def _schedule(self, pairs: list[tuple[Hook, Delivery]]) -> None:
        loop = asyncio.get_running_loop()
        for hook, delivery in pairs:
            task = loop.create_task(self._deliver(hook, delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver_all(self, pairs: list[tuple[Hook, Delivery]]) -> None:
        await asyncio.gather(*(self._deliver(hook, delivery) for hook, delivery in pairs))

    async def _deliver(self, hook: Hook, delivery: Delivery) -> None:
        policy = self.policy
        async with httpx.AsyncClient(timeout=policy.timeout_s) as client:
            for number in range(1, policy.max_attempts + 1):
                headers = delivery_headers(hook, delivery, number)
                attempt = Attempt(number, headers)
                delivery.attempts.append(attempt)
                try:
                    response = await client.post(hook.url, content=delivery.body, headers=headers)
                    attempt.status = response.status_code
                except httpx.HTTPError as err:
                    attempt.error = f"{type(err).__name__}: {err}"
                if attempt.status is not None and attempt.status < 300:
                    self._settle(delivery, "delivered")
                    return
                retryable = attempt.status is None or attempt.status >= 500
                if not (retryable or attempt.status in RETRYABLE_STATUSES):
                    break
                if number < policy.max_attempts:
                    wait = min(policy.backoff_s * 2 ** (number - 1), policy.max_backoff_s)
                    await asyncio.sleep(wait)
        self._settle(delivery, "failed")

    def _settle(self, delivery: Delivery, state: Literal["delivered", "failed"]) -> None:
        with self._cond:
            delivery.state = state
            self._cond.notify_all()

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Wait (on the sending loop) until every scheduled delivery has settled."""
        if self._tasks:
            await asyncio.wait_for(asyncio.gather(*self._tasks), timeout_s)

    def wait_settled(self, timeout_s: float = 10.0) -> bool:
        """Block (from any other thread) until no delivery is pending; False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: all(d.state != "pending" for d in self._log), timeout_s
            )

    # --- the log ---------------------------------------------------------------------------------
    def deliveries(
        self, product: Product | None = None, event: str | None = None
    ) -> list[Delivery]:
        """Logged deliveries, oldest first, optionally filtered."""
        with self._cond:
            return [
                d
                for d in self._log
                if (product is None or d.product == product) and (event is None or d.event == event)
            ]

    def clear_log(self) -> None:
        """Forget logged deliveries (hooks stay registered)."""
        with self._cond:
            self._log.clear()

    def router(self) -> APIRouter:
        """``/_sim/webhooks/{hooks,deliveries}``: read the state, clear the log."""
        router = APIRouter(prefix="/_sim/webhooks", tags=["simulator"])

        @router.get("/hooks")
        def list_hooks() -> list[dict[str, Any]]:
            return [
                asdict(hook) | {"events": sorted(hook.events), "secret": bool(hook.secret)}
                for hook in self.hooks()
            ]

        @router.get("/deliveries")
        def list_deliveries(event: str | None = None) -> list[dict[str, Any]]:
            return [d.summary() for d in self.deliveries(event=event)]

        @router.delete("/deliveries", status_code=204)
        def clear() -> Response:
            self.clear_log()
            return Response(status_code=204)

        return router
