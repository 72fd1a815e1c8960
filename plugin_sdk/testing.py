"""``PluginHarness``: run a plugin's lifecycle and feed it webhooks and events in plain pytest.

It builds the plugin exactly as the service would (same contract checks, config and secret
validation, lifecycle rules, event-key extraction) but with in-memory store, publisher, effect
ledger and LLM, and without Ray, NATS or a database::

    harness = PluginHarness(MyPlugin, config={...}, secrets={...})
    await harness.install()
    await harness.enable()
    await harness.webhook(body={"type": "ping"}, headers={"content-type": "application/json"})
    assert harness.published_events[0].subject == "my.subject"

Background jobs submitted through ``ctx.jobs`` wait in ``harness.jobs`` until
``await harness.run_jobs()`` runs them with the plugin's ``run_job`` (in this process) and
delivers ``job.completed`` / ``job.failed`` to ``handle_event``; a job's ``job.store`` is the
instance's store (``harness.store``, as in the service) and ``job.http`` is ``harness.http``.
``await harness.tick(name)`` runs one tick of a schedule.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Generic, TypeVar

import httpx

from core.bus import JOB_COMPLETED, JOB_FAILED
from core.errors import PermanentError
from plugin_sdk.config import validate_config, validate_secrets
from plugin_sdk.context import PluginContext, Secrets
from plugin_sdk.events import Event, EventSource, WebhookDelivery, event_key_of, subject_matches
from plugin_sdk.jobs import BUILTIN_KINDS, JobRun, failure_of, outcome_data
from plugin_sdk.lifecycle import InstanceState, check_transition
from plugin_sdk.manifest import Capability
from plugin_sdk.memory import (
    DisabledLlm,
    MemoryEffectLedger,
    MemoryEventPublisher,
    MemoryJob,
    MemoryJobQueue,
    MemoryKeyValueStore,
)
from plugin_sdk.plugin import Health, Plugin
from plugin_sdk.protocols import LlmGateway
from plugin_sdk.validation import verify_plugin
from plugin_sdk.version import SDK_API_VERSION

P = TypeVar("P", bound=Plugin[Any])


def _job_function(plugin_cls: type[Plugin[Any]], kind: str) -> Any:
    if kind in BUILTIN_KINDS:
        raise PermanentError(f"the platform's {kind!r} jobs run only in the service")
    return plugin_cls.run_job


Body = bytes | str | Mapping[str, Any] | list[Any]


class PluginHarness(Generic[P]):
    """One plugin instance of one tenant, hosted in memory."""

    def __init__(
        self,
        plugin_cls: type[P],
        *,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        tenant_id: str = "tenant-test",
        instance_id: str = "instance-test",
        transport: httpx.AsyncBaseTransport | None = None,
        llm: LlmGateway | None = None,
    ) -> None:
        self.manifest = verify_plugin(plugin_cls, sdk_version=SDK_API_VERSION)
        self.plugin_cls = plugin_cls
        self.tenant_id, self.instance_id = tenant_id, instance_id
        self.store = MemoryKeyValueStore()
        self.ledger = MemoryEffectLedger()
        self.publisher = MemoryEventPublisher()
        self.job_queue = MemoryJobQueue()
        # what ``JobRun.authorization()`` answers in this harness's jobs (the service reads the
        # instance's credential in the worker); None: no credential
        self.job_auth: str | None = None
        self.llm: LlmGateway = llm or DisabledLlm()
        self.http = httpx.AsyncClient(transport=transport)
        self.state = InstanceState.NEW
        self.plugin: P = self._build(config or {}, secrets or {})

    def _context(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> PluginContext:
        return PluginContext(
            manifest=self.manifest,
            tenant_id=self.tenant_id,
            instance_id=self.instance_id,
            config=config,
            secrets=Secrets(secrets),
            http=self.http,
            store=self.store,
            publisher=self.publisher,
            ledger=self.ledger,
            llm=self.llm,
            job_queue=self.job_queue,
        )

    def _build(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> P:
        validate_secrets(self.manifest, secrets)
        return self.plugin_cls(self._context(validate_config(self.manifest, config), secrets))

    @property
    def ctx(self) -> PluginContext:
        """The current instance's context."""
        return self.plugin.ctx

    @property
    def published_events(self) -> list[Event]:
        """Events the plugin published (de-duplicated by id, as on the bus)."""
        return self.publisher.events

    async def _run(self, hook: str, *args: Any) -> Any:
        next_state = check_transition(self.state, hook)
        result = await getattr(self.plugin, hook)(*args)
        self.state = next_state
        return result

    # --- lifecycle, in the order the service calls it -------------------------------------------
    async def install(self) -> None:
        """``configure`` then ``install``, as when an operator creates the instance."""
        await self._run("configure")
        await self._run("install")

    async def configure(
        self, config: Mapping[str, Any] | None = None, secrets: Mapping[str, str] | None = None
    ) -> None:
        """Set a new config (and secrets): validate, ``configure`` a fresh instance, swap it in."""
        check_transition(self.state, "configure")
        candidate = self._build(
            self.ctx.config if config is None else config,
            dict(self.ctx.secrets) if secrets is None else secrets,
        )
        await candidate.configure()
        self.plugin = candidate

    async def enable(self) -> None:
        """Call ``enable``."""
        await self._run("enable")

    async def disable(self) -> None:
        """Call ``disable``."""
        await self._run("disable")

    async def uninstall(self) -> None:
        """Call ``uninstall``."""
        await self._run("uninstall")

    async def health(self) -> Health:
        """Call ``health``."""
        return await self._run("health")

    async def upgrade(self, from_version: str, old_config: Mapping[str, Any]) -> dict[str, Any]:
        """Migrate ``old_config`` of ``from_version`` with this version's ``upgrade``; apply it."""
        check_transition(self.state, "upgrade")
        old = self.plugin_cls(self._context(old_config, dict(self.ctx.secrets)))
        new_config = await old.upgrade(from_version, dict(old_config))
        await self.configure(new_config)
        return new_config

    # --- work -----------------------------------------------------------------------------------
    def make_delivery(
        self,
        body: Body = b"",
        *,
        headers: Mapping[str, str] | None = None,
        event_key: str | None = None,
        delivery_id: str | None = None,
    ) -> WebhookDelivery:
        """A delivery as the ingress would queue it (auth headers dropped, event key found)."""
        heads = dict(headers or {})
        if isinstance(body, Mapping | list):
            raw = json.dumps(body).encode()
            heads.setdefault("content-type", "application/json")
        else:
            raw = body.encode() if isinstance(body, str) else body
        return WebhookDelivery(
            delivery_id=delivery_id or f"dlv-{uuid.uuid4()}",
            tenant_id=self.tenant_id,
            instance_id=self.instance_id,
            event_key=event_key or event_key_of(self.manifest.webhook, heads, raw),
            headers=heads,
            body=raw,
        )

    async def webhook(
        self,
        body: Body = b"",
        *,
        headers: Mapping[str, str] | None = None,
        event_key: str | None = None,
        delivery_id: str | None = None,
    ) -> WebhookDelivery:
        """Deliver a (verified) webhook to ``handle_webhook``; returns the delivery."""
        delivery = self.make_delivery(
            body, headers=headers, event_key=event_key, delivery_id=delivery_id
        )
        await self.redeliver(delivery)
        return delivery

    async def redeliver(self, delivery: WebhookDelivery) -> None:
        """Deliver ``delivery`` (again), as after a crash or a retry."""
        if Capability.WEBHOOKS not in self.manifest.capabilities:
            raise PermanentError(f"plugin {self.manifest.name!r} has no 'webhooks' capability")
        await self._run("handle_webhook", delivery)

    async def event(
        self,
        subject: str,
        data: Mapping[str, Any] | None = None,
        *,
        source_plugin: str = "test-source",
        correlation_id: str | None = None,
        event_id: str | None = None,
    ) -> Event:
        """Deliver an event to ``handle_event``; the subject must match ``events.consumes``."""
        if not any(subject_matches(p, subject) for p in self.manifest.events.consumes):
            raise PermanentError(
                f"plugin {self.manifest.name!r} does not consume {subject!r} "
                f"(events.consumes: {self.manifest.events.consumes})"
            )
        event = Event(
            id=event_id or str(uuid.uuid4()),
            subject=subject,
            tenant_id=self.tenant_id,
            source=EventSource(plugin=source_plugin, instance_id="instance-source"),
            data=dict(data or {}),
            correlation_id=correlation_id,
        )
        await self._run("handle_event", event)
        return event

    @property
    def jobs(self) -> list[MemoryJob]:
        """Every job submitted so far (with status, progress, result or error)."""
        return self.job_queue.jobs

    async def run_jobs(self) -> list[Event]:
        """Run the queued jobs with ``run_job``; deliver each outcome event to ``handle_event``.

        A raising ``run_job`` fails its job (``job.failed`` with the error), as in the service.
        """
        delivered = []
        for job in self.job_queue.queued():
            job.status = "running"
            await self._execute(job)
            error = job.error if job.status == "failed" else None
            event = Event(
                id=f"{job.id}:{job.status}", subject=JOB_FAILED if error else JOB_COMPLETED,
                tenant_id=self.tenant_id,
                source=EventSource(plugin=self.manifest.name, instance_id=self.instance_id),
                data=outcome_data(job.id, job.submission.kind, job.submission.key, job.result,
                                  error, 1),
            )  # fmt: skip
            await self.redeliver_event(event)
            delivered.append(event)
        return delivered

    async def _execute(self, job: MemoryJob) -> None:
        def report(fraction: float, message: str) -> None:
            job.progress = min(1.0, max(0.0, fraction))

        run = JobRun(
            id=job.id, kind=job.submission.kind, payload=job.submission.payload,
            tenant_id=self.tenant_id, instance_id=self.instance_id, config=self.ctx.config,
            attempt=1, report=report, auth=self._job_auth, store=self.store,
            open_http=lambda: self.http,
        )  # fmt: skip
        try:
            result = await asyncio.to_thread(_job_function(self.plugin_cls, run.kind), run)
            if inspect.isawaitable(result):
                result = await result
            job.result, job.status, job.progress = json.loads(json.dumps(result)), "done", 1.0
        except Exception as err:  # noqa: BLE001 - a failing job is an outcome, as in the service
            job.error, job.status = f"{type(err).__name__}: {err}", "failed"
            job.result = failure_of(err)

    async def _job_auth(self) -> str | None:
        return self.job_auth

    async def redeliver_event(self, event: Event) -> None:
        """Deliver ``event`` to ``handle_event`` as the service routes it (no consumes check)."""
        await self._run("handle_event", event)

    async def tick(self, name: str) -> None:
        """One tick of the schedule ``name`` (``run_scheduled``), as the service fires it."""
        if all(s.name != name for s in self.manifest.schedules):
            raise PermanentError(f"plugin {self.manifest.name!r} has no schedule {name!r}")
        check_transition(self.state, "handle_event")
        await self.plugin.run_scheduled(name)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    async def __aenter__(self) -> PluginHarness[P]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
