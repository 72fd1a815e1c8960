"""The runtime of one tenant: its live plugin instances and their lifecycle.

The database is the source of truth; this object holds live plugin objects built from it. Every
lifecycle change runs the plugin's hook first and persists (with its audit record) only when the
hook succeeded, so a failing hook leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from actors.host.auth_ops import AuthOps
from actors.host.backends import NatsEventPublisher, PostgresEffectLedger, PostgresKeyValueStore
from actors.host.services import HostServices
from actors.jobs_client import ServiceJobQueue
from core.bus import SCHEDULE_FIRED
from core.contracts import CreateInstance, InstanceHealth, InstanceView, UpdateInstance
from core.errors import Forbidden, IntegrationsError, NotFound, PluginError, RetryableError
from core.instances import InstanceRecord, new_instance_id
from core.jobs.store import JobStore
from plugin_sdk.auth import StoredCredentials
from plugin_sdk.config import validate_config, validate_secrets
from plugin_sdk.context import PluginContext, Secrets
from plugin_sdk.events import Event, WebhookDelivery, subject_matches
from plugin_sdk.lifecycle import KEEPS_DELIVERIES, InstanceState, check_transition
from plugin_sdk.plugin import Plugin
from plugins.registry import PluginEntry

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class LiveInstance:
    record: InstanceRecord
    entry: PluginEntry
    plugin: Plugin[Any]
    secret_names: list[str]


class TenantRuntime(AuthOps):
    """One tenant's instances, activated on demand and dropped when idle (state stays in PG)."""

    def __init__(self, tenant_id: str, svc: HostServices) -> None:
        self.tenant_id = tenant_id
        self.svc = svc
        self.live: dict[str, LiveInstance] = {}
        self.lock = asyncio.Lock()  # lifecycle changes of one tenant run one at a time
        self.last_used = time.monotonic()
        # consumers per (event subject, source instance): every instance change of the tenant
        # goes through this object, which clears it after the change is committed
        self._routes: dict[tuple[str, str], list[str]] = {}
        self._routes_generation = 0

    # --- building blocks -----------------------------------------------------------------------
    def _entry(self, plugin: str, version: str | None) -> PluginEntry:
        registry = self.svc.registry
        return registry.get(plugin, version) if version else registry.latest(plugin)

    def _context(
        self, entry: PluginEntry, instance_id: str, config: dict[str, Any], secrets: dict[str, str]
    ) -> PluginContext:
        return PluginContext(
            manifest=entry.manifest,
            tenant_id=self.tenant_id,
            instance_id=instance_id,
            config=config,
            secrets=Secrets(secrets),
            # egress-guarded, breakers per tenant + instance + endpoint, the instance's auth
            http=self.svc.plugin_http(self.tenant_id, instance_id, entry.manifest, config),
            credentials=StoredCredentials(
                self.svc.credentials,
                self.tenant_id,
                instance_id,
                on_change=lambda: self.svc.forget_tokens(self.tenant_id, instance_id),
            ),
            store=PostgresKeyValueStore(self.svc.db, instance_id),
            publisher=NatsEventPublisher(self.svc.bus, route=self.consumers_of),
            ledger=PostgresEffectLedger(self.svc.db, instance_id),
            llm=self.svc.llm.gateway(self.tenant_id, instance_id, entry.name),
            job_queue=ServiceJobQueue(
                JobStore(self.svc.db), self.svc.runner, self.tenant_id, instance_id
            ),
        )

    async def _hook(self, what: str, awaitable: Awaitable[T]) -> T:
        """Run one plugin hook with the handler timeout; untyped failures become PluginError."""
        timeout = self.svc.settings.webhooks.handler_timeout_s
        await self.svc.llm.refresh(self.tenant_id)  # ctx.llm.enabled sees the tenant's model
        try:
            async with asyncio.timeout(timeout):
                return await awaitable
        except IntegrationsError:
            raise
        except TimeoutError as err:
            raise RetryableError(f"{what} did not finish within {timeout}s") from err
        except Exception as err:  # noqa: BLE001 - boundary: a plugin bug must not leak raw
            log.exception("plugin hook %s failed", what, extra={"tenant_id": self.tenant_id})
            raise PluginError(f"{what} failed: {type(err).__name__}: {err}") from err

    async def _load(self, instance_id: str) -> LiveInstance:
        live = self.live.get(instance_id)
        if live is not None:
            return live
        record = await self.svc.instances.get(self.tenant_id, instance_id)
        try:
            entry = self._entry(record.plugin, record.version)
        except NotFound:
            await self.svc.load_recorded_sources()
            entry = self._entry(record.plugin, record.version)
        secrets = await self.svc.secrets.get(self.tenant_id, instance_id)
        plugin = entry.plugin_cls(self._context(entry, instance_id, record.config, secrets))
        live = LiveInstance(record, entry, plugin, sorted(secrets))
        self.live[instance_id] = live
        return live

    def _instances_changed(self) -> None:
        """An instance was created, changed or removed (committed): routes must be read again."""
        self._routes.clear()
        self._routes_generation += 1

    def view(self, live: LiveInstance) -> InstanceView:
        return InstanceView(**live.record.model_dump(), secrets_set=live.secret_names)

    async def _audit(self, conn: Any, actor: str, action: str, target: str, **details: Any) -> Any:
        return await self.svc.audit.record(
            conn, tenant_id=self.tenant_id, actor=actor, action=action, target=target,
            details=details,
        )  # fmt: skip

    # --- lifecycle -----------------------------------------------------------------------------
    async def create(self, request: CreateInstance, actor: str) -> InstanceView:
        """configure + install the plugin, then store instance, secrets and audit in one go."""
        entry = self._entry(request.plugin, request.version)
        config = validate_config(entry.manifest, request.config)
        validate_secrets(entry.manifest, request.secrets)
        instance_id = new_instance_id()
        plugin = entry.plugin_cls(self._context(entry, instance_id, config, request.secrets))
        await self._hook("configure", plugin.configure())
        state = check_transition(InstanceState.NEW, "install")
        await self._hook("install", plugin.install())
        async with self.svc.db.transaction() as conn:
            record = await self.svc.instances.insert(
                conn, instance_id=instance_id, tenant_id=self.tenant_id, plugin=entry.name,
                version=entry.version, name=request.name, config=config, state=state.value,
            )  # fmt: skip
            await self.svc.secrets.put(self.tenant_id, instance_id, request.secrets, conn=conn)
            audit = await self._audit(
                conn, actor, "instance.install", instance_id, plugin=entry.name,
                version=entry.version, name=request.name, secrets_set=sorted(request.secrets),
            )  # fmt: skip
        self._instances_changed()
        await self.svc.audit.publish(audit)
        live = LiveInstance(record, entry, plugin, sorted(request.secrets))
        self.live[instance_id] = live
        return self.view(live)

    async def update(self, instance_id: str, request: UpdateInstance, actor: str) -> InstanceView:
        """Validate and configure a candidate instance; swap it in only when that succeeds."""
        live = await self._load(instance_id)
        config = validate_config(
            live.entry.manifest, live.record.config if request.config is None else request.config
        )
        current = await self.svc.secrets.get(self.tenant_id, instance_id)
        secrets = {**current, **(request.secrets or {})}
        validate_secrets(live.entry.manifest, secrets)
        candidate = live.entry.plugin_cls(self._context(live.entry, instance_id, config, secrets))
        await self._hook("configure", candidate.configure())
        async with self.svc.db.transaction() as conn:
            record = await self.svc.instances.update(
                conn, self.tenant_id, instance_id, config=config
            )
            if request.secrets:
                await self.svc.secrets.put(
                    self.tenant_id, instance_id, request.secrets, conn=conn,
                    overlap_s=request.secret_overlap_s,
                )  # fmt: skip
            audit = await self._audit(
                conn, actor, "instance.configure", instance_id,
                config_changed=request.config is not None,
                secrets_changed=sorted(request.secrets or {}),
            )  # fmt: skip
        self._instances_changed()
        await self.svc.audit.publish(audit)
        self.live[instance_id] = LiveInstance(record, live.entry, candidate, sorted(secrets))
        return self.view(self.live[instance_id])

    async def transition(self, instance_id: str, hook: str, actor: str) -> InstanceView:
        """enable or disable (flag-gated enable)."""
        live = await self._load(instance_id)
        state = check_transition(InstanceState(live.record.state), hook)
        if hook == "enable" and not await self.svc.flags.plugin_enabled_async(
            live.record.plugin, self.tenant_id
        ):
            raise Forbidden(
                f"plugin {live.record.plugin!r} is not available to this tenant (feature flag)"
            )
        await self._hook(hook, getattr(live.plugin, hook)())
        async with self.svc.db.transaction() as conn:
            live.record = await self.svc.instances.update(
                conn, self.tenant_id, instance_id, state=state.value
            )
            audit = await self._audit(conn, actor, f"instance.{hook}", instance_id)
        self._instances_changed()
        await self.svc.audit.publish(audit)
        return self.view(live)

    async def uninstall(self, instance_id: str, actor: str) -> None:
        """Disable if needed, run uninstall, then delete the instance with its secrets and state."""
        live = await self._load(instance_id)
        if live.record.state in KEEPS_DELIVERIES:  # enabled, or waiting for re-authorization
            await self.transition(instance_id, "disable", actor)
        check_transition(InstanceState(live.record.state), "uninstall")
        await self._hook("uninstall", live.plugin.uninstall())
        async with self.svc.db.transaction() as conn:
            await self.svc.instances.delete(conn, self.tenant_id, instance_id)
            audit = await self._audit(conn, actor, "instance.uninstall", instance_id)
        self._instances_changed()
        await self.svc.audit.publish(audit)
        self.live.pop(instance_id, None)
        self.svc.drop_instance(self.tenant_id, instance_id)  # its token manager, its refusal

    async def upgrade(self, instance_id: str, version: str | None, actor: str) -> InstanceView:
        """Migrate config with the new version's ``upgrade``; on any failure nothing changes."""
        live = await self._load(instance_id)
        check_transition(InstanceState(live.record.state), "upgrade")
        target = self._entry(live.record.plugin, version)
        secrets = await self.svc.secrets.get(self.tenant_id, instance_id)
        old = live.record.config
        migrator = target.plugin_cls(self._context(target, instance_id, old, secrets))
        new_config = await self._hook("upgrade", migrator.upgrade(live.record.version, dict(old)))
        config = validate_config(target.manifest, new_config)
        validate_secrets(target.manifest, secrets)
        candidate = target.plugin_cls(self._context(target, instance_id, config, secrets))
        await self._hook("configure", candidate.configure())
        async with self.svc.db.transaction() as conn:
            record = await self.svc.instances.update(
                conn, self.tenant_id, instance_id, version=target.version, config=config
            )
            audit = await self._audit(
                conn, actor, "instance.upgrade", instance_id,
                from_version=live.record.version, to_version=target.version,
            )  # fmt: skip
        self._instances_changed()
        await self.svc.audit.publish(audit)
        self.live[instance_id] = LiveInstance(record, target, candidate, sorted(secrets))
        return self.view(self.live[instance_id])

    # --- reads ---------------------------------------------------------------------------------
    async def get(self, instance_id: str) -> InstanceView:
        return self.view(await self._load(instance_id))

    async def list_instances(self) -> list[InstanceView]:
        records = await self.svc.instances.list(self.tenant_id)
        return [await self.get(r.id) for r in records]

    async def health(self, instance_id: str) -> InstanceHealth:
        live = await self._load(instance_id)
        scope = f"{self.tenant_id}/{instance_id}"
        if live.record.state == InstanceState.NEEDS_REAUTH:
            status, detail = "needs_reauth", live.record.state_detail
        else:
            result = await self._hook("health", live.plugin.health())
            status, detail = str(result.status), result.detail or None
        refused = self.svc.egress_refusals.get(scope)
        if refused:
            detail = "; ".join(filter(None, [detail, f"last outbound request refused: {refused}"]))
        return InstanceHealth(
            instance_id=instance_id, state=live.record.state, status=status, detail=detail,
            breakers=self.svc.breakers_snapshot(scope),
        )  # fmt: skip

    async def ingest_profile(self, instance_id: str) -> dict[str, Any] | None:
        """What the ingress needs to verify a webhook for this instance; None unless enabled."""
        try:
            live = await self._load(instance_id)
        except NotFound:
            return None
        spec = live.entry.manifest.webhook
        if live.record.state not in KEEPS_DELIVERIES or spec is None:
            return None
        secrets: list[str] = []
        if spec.secret:
            secrets = await self.svc.secrets.get_with_previous(
                self.tenant_id, instance_id, spec.secret
            )
        return {
            "plugin": live.record.plugin,
            "scheme": spec.scheme.value,
            "spec": spec.model_dump(mode="json"),
            "secrets": secrets,
            "max_attempts": live.entry.manifest.max_attempts,
        }

    # --- work ----------------------------------------------------------------------------------
    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        live = await self._load(delivery.instance_id)
        self._check_work(live, "handle_webhook")
        await self._work(live, "handle_webhook", live.plugin.handle_webhook(delivery))

    async def handle_webhooks(
        self, deliveries: list[WebhookDelivery]
    ) -> list[BaseException | None]:
        """Several deliveries at once (each with its own timeout); each one's error or None."""
        outcomes = await asyncio.gather(
            *(self.handle_webhook(d) for d in deliveries), return_exceptions=True
        )
        return [o if isinstance(o, BaseException) else None for o in outcomes]

    async def handle_event(self, event: Event, instance_id: str) -> None:
        live = await self._load(instance_id)
        self._check_work(live, "handle_event")
        await self.job_auth_refused(instance_id, event)  # then the plugin hears of it too
        if event.subject == SCHEDULE_FIRED and event.source.instance_id == instance_id:
            # a tick of one of its schedules (only the platform sends an instance's own id)
            name = str(event.data.get("name"))
            await self._work(live, "run_scheduled", live.plugin.run_scheduled(name))
            return
        await self._work(live, "handle_event", live.plugin.handle_event(event))

    async def consumers_of(self, event: Event) -> list[str]:
        """Enabled instances whose manifest consumes this event's subject (not its source)."""
        key = (event.subject, event.source.instance_id)
        if key in self._routes:
            return list(self._routes[key])
        generation = self._routes_generation
        out = []
        for record in await self.svc.instances.list(self.tenant_id):
            if record.state not in KEEPS_DELIVERIES or record.id == event.source.instance_id:
                continue
            live = await self._load(record.id)
            if any(subject_matches(p, event.subject) for p in live.entry.manifest.events.consumes):
                out.append(record.id)
        if generation == self._routes_generation:  # no change was committed while reading
            self._routes[key] = out
        return list(out)

    def close(self) -> None:
        """Drop the live objects (instance clients share the host's transport: nothing to close)."""
        self.live.clear()
