"""What one tenant-host process shares between all the tenants it holds."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from actors.priority import share_priority
from core.audit import AuditLog
from core.bus import Bus
from core.crypto import SecretBox
from core.db import Database
from core.endpoints import database_url, nats_url
from core.flags import FeatureFlags
from core.instances import InstanceStore
from core.keys import secrets_keys
from core.llm import LiteLlmGateway
from core.resilience import BreakerConfig, BreakerRegistry, BreakerTransport, breaker_transport
from core.secret_store import SecretStore
from core.settings import Settings
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
    llm: LiteLlmGateway
    breakers: BreakerRegistry
    transport: BreakerTransport

    @classmethod
    def create(cls, settings: Settings) -> HostServices:
        """Clients connect lazily; the registry discovers built-in and entry-point plugins now."""
        # dispatch yields the CPU to ingest, and so do the PostgreSQL backends doing its work
        lowered = share_priority if settings.ray.dispatch_nice > 0 else None
        db = Database(database_url(settings), settings.database, on_connect=lowered)
        bus = Bus(nats_url(settings), settings.nats)
        registry = PluginRegistry()
        breakers = BreakerRegistry(BreakerConfig.from_settings(settings.webhooks))
        report = registry.discover()
        for refused in report.refused:
            log.warning("plugin refused: %s", refused.why, extra={"plugin": refused.plugin})
        return cls(
            settings=settings,
            db=db,
            bus=bus,
            registry=registry,
            instances=InstanceStore(db),
            secrets=SecretStore(db, SecretBox(secrets_keys(settings, create=False))),
            flags=FeatureFlags(settings.flagsmith),
            audit=AuditLog(db, bus),
            llm=LiteLlmGateway(settings.llm),
            breakers=breakers,
            # One connection pool per process, shared by every instance's client; every call
            # goes through its endpoint's circuit breaker and has a timeout.
            transport=breaker_transport(
                httpx.AsyncHTTPTransport(retries=0), breakers, settings.webhooks.outbound_timeout_s
            ),
        )

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
