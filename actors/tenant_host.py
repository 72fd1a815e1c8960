"""Tenant host actors: virtual actors for tenants, many tenants packed into one process.

A tenant is activated on its first call (its instances load lazily from PostgreSQL) and
passivated after ``tenant_idle_s`` without calls (live objects dropped; nothing is lost because
every change is persisted before it returns). Tenants map to a fixed number of host actors by a
stable hash, so one process serves thousands of tenants instead of one process each.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import psutil
import ray

from actors.host.services import HostServices
from actors.host.tenant import TenantRuntime
from actors.priority import lower_priority
from core.logging import configure_logging
from core.settings import load_settings

log = logging.getLogger(__name__)

LIFECYCLE_OPS = frozenset({"create", "update", "transition", "uninstall", "upgrade"})
READ_OPS = frozenset({"get", "list_instances", "health", "consumers_of", "ingest_profile"})
WORK_OPS = frozenset({"handle_webhooks", "handle_event"})
# credentials (actors/host/auth_ops.py): changes run under the tenant's lifecycle lock
AUTH_OPS = frozenset({"configure_auth", "oauth_start", "oauth_complete"})
READ_OPS = READ_OPS | {"auth_status"}
LIFECYCLE_OPS = LIFECYCLE_OPS | AUTH_OPS


@ray.remote(num_cpus=0.05, max_restarts=-1, max_task_retries=0, max_concurrency=512)  # type: ignore[call-overload]
class TenantHost:
    """Holds the active tenants of its hash slot."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.settings = load_settings()
        configure_logging(self.settings.log_level)
        lower_priority(self.settings.ray.dispatch_nice)
        self._svc: HostServices | None = None
        self.tenants: dict[str, TenantRuntime] = {}
        self._reaper: asyncio.Task[None] | None = None

    async def _services(self) -> HostServices:
        if self._svc is None:
            svc = HostServices.create(self.settings)
            await svc.load_recorded_sources()
            self._svc = svc
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_forever())
        return self._svc

    async def _runtime(self, tenant_id: str) -> TenantRuntime:
        runtime = self.tenants.get(tenant_id)
        if runtime is None:
            runtime = self.tenants[tenant_id] = TenantRuntime(tenant_id, await self._services())
        runtime.last_used = time.monotonic()
        return runtime

    async def call(self, tenant_id: str, op: str, kwargs: dict[str, Any]) -> Any:
        """Run one operation for one tenant."""
        if op not in LIFECYCLE_OPS | READ_OPS | WORK_OPS:
            raise ValueError(f"unknown tenant operation {op!r}")
        runtime = await self._runtime(tenant_id)
        method = getattr(runtime, op)
        if op in LIFECYCLE_OPS:
            async with runtime.lock:
                return await method(**kwargs)
        return await method(**kwargs)

    def passivate(self, idle_s: float | None = None) -> int:
        """Drop tenants idle for ``idle_s`` (default: the setting); return how many."""
        limit = self.settings.ray.tenant_idle_s if idle_s is None else idle_s
        now = time.monotonic()
        idle = [
            t for t, rt in self.tenants.items()
            if now - rt.last_used >= limit and not rt.lock.locked()
        ]  # fmt: skip
        for tenant_id in idle:
            self.tenants.pop(tenant_id).close()
        return len(idle)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, self.settings.ray.tenant_idle_s / 4))
            dropped = self.passivate()
            if dropped:
                log.info("passivated %d idle tenants", dropped, extra={"host": self.index})

    async def reload_sources(self) -> None:
        """Load plugin sources an operator added since this process started."""
        await (await self._services()).load_recorded_sources()

    def stats(self) -> dict[str, Any]:
        """Active tenants and this process's memory."""
        memory = psutil.Process(os.getpid()).memory_info()
        return {
            "index": self.index,
            "active_tenants": len(self.tenants),
            "live_instances": sum(len(rt.live) for rt in self.tenants.values()),
            "rss_bytes": memory.rss,
            "pid": os.getpid(),
            "breakers": {} if self._svc is None else self._svc.breakers_snapshot(),
        }
