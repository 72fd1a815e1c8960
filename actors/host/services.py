"""What one tenant-host process shares between all the tenants it holds."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from actors.handles import JobRunnerClient
from actors.instance_hosts import instance_hosts, token_endpoints
from actors.priority import share_priority
from core.audit import AuditLog
from core.bus import Bus
from core.credentials import CredentialStore
from core.crypto import SecretBox
from core.db import Database
from core.egress import AllowList, EgressRefused
from core.egress_transport import EgressTransport, GuardedHTTPTransport, HostPermissions
from core.endpoints import database_url, nats_url
from core.flags import FeatureFlags
from core.instances import InstanceStore
from core.keys import secrets_keys
from core.llm import LlmService
from core.llm_store import LlmUsageStore, TenantLlmStore
from core.oauth import TokenManager
from core.oauth_held import HeldDeliveries
from core.oauth_state import OAuthStateStore, StateSigner
from core.resilience import BreakerConfig, BreakerRegistry, BreakerTransport, breaker_transport
from core.secret_store import SecretStore
from core.settings import Settings
from plugin_sdk.auth import InstanceAuth
from plugin_sdk.manifest import Manifest
from plugins.registry import PluginRegistry

log = logging.getLogger(__name__)


@dataclass
class HostServices:
    settings: Settings
    db: Database
    bus: Bus
    registry: PluginRegistry
    instances: InstanceStore
    secrets: SecretStore
    flags: FeatureFlags
    audit: AuditLog
    llm: LlmService  # ctx.llm of each instance: LlmService.gateway(tenant, instance, plugin)
    breakers: BreakerRegistry
    transport: BreakerTransport
    allow: AllowList
    credentials: CredentialStore
    held: HeldDeliveries
    oauth_states: OAuthStateStore
    state_signer: StateSigner
    runner: JobRunnerClient  # ctx.jobs wakes the job runner through it
    # "tenant/instance" -> the last refused outbound request (shown on the instance's health)
    egress_refusals: dict[str, str] = field(default_factory=dict)
    # "tenant/instance" -> its token manager: one per instance and process (single-flight)
    token_managers: dict[str, TokenManager] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings, runner: JobRunnerClient | None = None) -> HostServices:
        """Clients connect lazily; the registry discovers built-in and entry-point plugins now.

        ``runner`` defaults to a client that only looks the job runner up (never creates it)."""
        # dispatch yields the CPU to ingest, and so do the PostgreSQL backends doing its work
        lowered = share_priority if settings.ray.dispatch_nice > 0 else None
        db = Database(database_url(settings), settings.database, on_connect=lowered)
        bus = Bus(nats_url(settings), settings.nats)
        registry = PluginRegistry()
        breakers = BreakerRegistry(BreakerConfig.from_settings(settings.webhooks))
        report = registry.discover()
        for refused in report.refused:
            log.warning("plugin refused: %s", refused.why, extra={"plugin": refused.plugin})
        allow = AllowList.parse(settings.egress.allow.split(","))
        keys = secrets_keys(settings, create=False)
        box = SecretBox(keys)
        return cls(
            settings=settings,
            db=db,
            bus=bus,
            registry=registry,
            instances=InstanceStore(db),
            secrets=SecretStore(db, box),
            flags=FeatureFlags(settings.flagsmith),
            audit=AuditLog(db, bus),
            llm=LlmService(
                settings.llm, models=TenantLlmStore(db, box), usage=LlmUsageStore(db), allow=allow
            ),
            breakers=breakers,
            # One connection pool per process, shared by every instance's client; every call
            # goes through its endpoint's circuit breaker and has a timeout, and connects only to
            # addresses the egress guard checked.
            transport=breaker_transport(
                GuardedHTTPTransport(allow), breakers, settings.webhooks.outbound_timeout_s
            ),
            allow=allow,
            credentials=CredentialStore(db, box),
            held=HeldDeliveries(db),
            oauth_states=OAuthStateStore(db),
            state_signer=StateSigner(keys),
            runner=runner or JobRunnerClient(settings.ray.namespace),
        )

    def _egress(self, scope: str, permitted: HostPermissions) -> EgressTransport:
        def refused(err: EgressRefused) -> None:
            self.egress_refusals[scope] = err.detail

        return EgressTransport(self.transport.scoped(scope), self.allow, permitted, refused)

    def token_manager(
        self, tenant_id: str, instance_id: str, manifest: Manifest, config: Mapping[str, Any]
    ) -> TokenManager:
        """The instance's token manager, shared by every client of the instance in this process."""
        scope = f"{tenant_id}/{instance_id}"
        endpoints = token_endpoints(manifest, config)
        manager = self.token_managers.get(scope)
        if manager is None or manager.endpoints != endpoints:
            permitted = instance_hosts(manifest, config).permitted
            http = self._client(self._egress(scope, permitted), None)
            manager = TokenManager(
                self.credentials, tenant_id, instance_id, endpoints, http,
                refresh_before_s=self.settings.oauth.refresh_before_s,
            )  # fmt: skip
            self.token_managers[scope] = manager
        return manager

    def forget_tokens(self, tenant_id: str, instance_id: str) -> None:
        """A new credential was stored: the next request reads it."""
        manager = self.token_managers.get(f"{tenant_id}/{instance_id}")
        if manager is not None:
            manager.invalidate()

    def drop_instance(self, tenant_id: str, instance_id: str) -> None:
        """An instance was uninstalled: its token manager and last refusal go too."""
        self.token_managers.pop(f"{tenant_id}/{instance_id}", None)
        self.egress_refusals.pop(f"{tenant_id}/{instance_id}", None)

    def forget_tenant(self, tenant_id: str) -> None:
        """A tenant was deleted: drop every token manager and refusal of its instances."""
        prefix = f"{tenant_id}/"
        for scope in [s for s in self.token_managers if s.startswith(prefix)]:
            del self.token_managers[scope]
        for scope in [s for s in self.egress_refusals if s.startswith(prefix)]:
            del self.egress_refusals[scope]
        self.llm.forget(tenant_id)

    def plugin_http(
        self, tenant_id: str, instance_id: str, manifest: Manifest, config: Mapping[str, Any]
    ) -> httpx.AsyncClient:
        """``ctx.http``: egress-guarded, breaker-wrapped, with the instance's auth if declared."""
        scope = f"{tenant_id}/{instance_id}"
        hosts = instance_hosts(manifest, config)
        auth = None
        if manifest.auth:
            # the token goes to the instance's own hosts only, never to a "network:*" anywhere
            manager = self.token_manager(tenant_id, instance_id, manifest, config)
            auth = InstanceAuth(manager, to_host=hosts.own.allows)
        return self._client(self._egress(scope, hosts.permitted), auth)

    def _client(
        self, transport: httpx.AsyncBaseTransport, auth: httpx.Auth | None
    ) -> httpx.AsyncClient:
        timeout = httpx.Timeout(self.settings.webhooks.handler_timeout_s, connect=5.0)
        return httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False, auth=auth)

    def breakers_snapshot(self, scope: str | None = None) -> dict[str, Any]:
        """State of every breaker of this host process, or only of ``scope`` ("tenant/instance")."""
        return dict(self.breakers.snapshot(scope))

    @property
    def plugin_dir(self) -> Path:
        """Where wheels loaded at runtime are unpacked."""
        return self.settings.data_dir / "plugins"

    async def load_recorded_sources(self) -> None:
        """Load every plugin source an operator added at runtime (idempotent per process)."""
        rows = await self.db.fetch("SELECT path FROM plugin_sources ORDER BY loaded_at")
        for row in rows:
            path = Path(row["path"])
            if str(path) in self._loaded_sources:
                continue
            report = self.registry.load_path(path, into=self.plugin_dir)
            for refused in report.refused:
                log.warning("plugin refused: %s", refused.why, extra={"plugin": refused.plugin})
            self._loaded_sources.add(str(path))

    def __post_init__(self) -> None:
        self._loaded_sources: set[str] = set()
