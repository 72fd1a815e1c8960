"""What one replica holds: settings and the clients of every backing service."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from actors import spawn
from actors.handles import DirectoryClient, JobRunnerClient, TenantClient
from core.audit import AuditLog
from core.bus import H_MAX_ATTEMPTS, H_PREFIX, H_SUBJECT, H_TARGET, Bus
from core.crypto import SecretBox
from core.db import Database
from core.endpoints import database_url, nats_url
from core.errors import IntegrationsError
from core.keys import operator_key, secrets_keys
from core.llm_store import LlmUsageStore, TenantLlmStore
from core.settings import Settings
from core.tenancy import TenantStore
from core.webhooks.deliveries import DeliveryStore
from plugins.registry import PluginRegistry
from serve_app.ingest import WebhookIngest
from serve_app.metrics import ApiMetrics

log = logging.getLogger(__name__)
INGEST_SESSION = {"synchronous_commit": "off"}
"""The ingest pool's sessions: a delivery row's commit does not wait for the WAL flush."""


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: Bus
    directory: DirectoryClient
    hosts: TenantClient
    runner: JobRunnerClient
    tenants: TenantStore
    audit: AuditLog
    registry: PluginRegistry
    metrics: ApiMetrics
    deliveries: DeliveryStore
    ingest: WebhookIngest
    operator_key: str
    llm_models: TenantLlmStore
    llm_usage: LlmUsageStore
    readiness_timeout_s: float = 2.0
    loaded_sources: set[str] = field(default_factory=set)
    relays_checked_at: float = 0.0

    @classmethod
    def create(cls, settings: Settings) -> Services:
        """Build the clients (they connect lazily, so a replica starts even when one is down)."""
        db = Database(database_url(settings), settings.database)
        bus = Bus(nats_url(settings), settings.nats)
        registry = PluginRegistry()
        registry.discover()
        hosts = spawn.tenant_client(settings)
        deliveries = DeliveryStore(db)
        # the ingest's own pool: its commits do not wait for the disk (serve_app/ingest.py)
        ingest_db = Database(
            database_url(settings), settings.database, server_settings=INGEST_SESSION,
            keep_open=True,  # no request waits for a new connection (core/db/pool.py)
        )  # fmt: skip
        metrics = ApiMetrics()
        return cls(
            settings=settings,
            db=db,
            bus=bus,
            directory=spawn.directory_client(settings.ray.namespace),
            hosts=hosts,
            runner=spawn.job_runner_client(settings.ray.namespace),
            tenants=TenantStore(db),
            audit=AuditLog(db, bus),
            registry=registry,
            metrics=metrics,
            deliveries=deliveries,
            ingest=WebhookIngest(settings.webhooks, hosts, bus, DeliveryStore(ingest_db), metrics),
            operator_key=operator_key(settings, create=False),
            llm_models=TenantLlmStore(db, SecretBox(secrets_keys(settings, create=False))),
            llm_usage=LlmUsageStore(db),
        )

    async def keep_relays(self, every_s: float = 10.0) -> None:
        """Make sure the relays and the job runner run (a crashed or killed one is created again
        within ``every_s``)."""
        now = time.monotonic()
        if now - self.relays_checked_at < every_s:
            return
        self.relays_checked_at = now
        await asyncio.to_thread(spawn.keep_running, self.settings)

    async def refresh_sources(self) -> None:
        """Load plugin sources another replica recorded since this one started."""
        rows = await self.db.fetch("SELECT path FROM plugin_sources ORDER BY loaded_at")
        for row in rows:
            if row["path"] not in self.loaded_sources:
                self.registry.load_path(Path(row["path"]), into=self.settings.data_dir / "plugins")
                self.loaded_sources.add(row["path"])

    async def forget_tenant(self, tenant_id: str, timeout_s: float = 30.0) -> None:
        """After a tenant's deletion: its host drops the tenant's live objects and tokens, so
        nothing cached of it (an instance, a webhook profile) outlives it or reaches a tenant
        created later with its id. Other tenants of that host stay active."""
        try:
            await self.hosts.forget(tenant_id, timeout_s)
        except Exception as err:  # noqa: BLE001 - the deletion stands; idle passivation follows
            log.warning("tenant %s deleted but its host did not forget it: %s", tenant_id, err)
        self.ingest.forget_tenant(tenant_id)

    async def replay_dead_letter(self, tenant_id: str, dead_letter_id: str, actor: str) -> str:
        """Queue a dead letter's original message again; return its delivery id."""
        letter = await self.deliveries.mark_replayed(tenant_id, dead_letter_id)
        headers = {k: v for k, v in letter.headers.items() if not k.startswith(H_PREFIX)}
        headers[H_MAX_ATTEMPTS] = letter.headers.get(H_MAX_ATTEMPTS, "")
        if letter.kind == "event":
            headers[H_TARGET] = letter.instance_id
        subject = letter.headers[H_SUBJECT]
        msg_id = f"{letter.delivery_id}:replay:{letter.id}"
        try:
            await self.bus.publish(subject, letter.payload, headers=headers, msg_id=msg_id)
        except IntegrationsError:
            await self.deliveries.mark_dead(
                tenant_id, letter.delivery_id, "replay could not be queued", letter.payload,
                letter.headers, letter.kind,
            )  # fmt: skip
            raise
        async with self.db.transaction() as conn:
            record = await self.audit.record(
                conn, tenant_id=tenant_id, actor=actor, action="dead_letter.replay",
                target=dead_letter_id, details={"delivery_id": letter.delivery_id},
            )  # fmt: skip
        await self.audit.publish(record)
        return letter.delivery_id

    async def close(self) -> None:
        self.ingest.steering.stop()
        await self.bus.close()
        await self.db.close()
        await self.ingest.deliveries.db.close()
