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
from collections.abc import Awaitable, Callable
from typing import Any

import psutil
import ray

from actors.handles import JobRunnerClient, Spawn
from actors.host.services import HostServices
from actors.host.tenant import TenantRuntime
from actors.priority import lower_priority
from actors.tenant_ops import LOCKED_OPS, TenantOp
from core.logging import configure_logging
from core.settings import load_settings

log = logging.getLogger(__name__)

# The closed dispatch table of the boundary: a wire name outside ``TenantOp`` is refused, and
# each op names its runtime method here (no attribute lookup by a string from the wire).
RUNTIME_OPS: dict[TenantOp, Callable[..., Awaitable[Any]]] = {
    TenantOp.CREATE: TenantRuntime.create,
    TenantOp.UPDATE: TenantRuntime.update,
    TenantOp.TRANSITION: TenantRuntime.transition,
    TenantOp.UNINSTALL: TenantRuntime.uninstall,
    TenantOp.UPGRADE: TenantRuntime.upgrade,
    TenantOp.CONFIGURE_AUTH: TenantRuntime.configure_auth,
    TenantOp.OAUTH_START: TenantRuntime.oauth_start,
    TenantOp.OAUTH_COMPLETE: TenantRuntime.oauth_complete,
    TenantOp.GET: TenantRuntime.get,
    TenantOp.LIST_INSTANCES: TenantRuntime.list_instances,
    TenantOp.HEALTH: TenantRuntime.health,
    TenantOp.AUTH_STATUS: TenantRuntime.auth_status,
    TenantOp.CONSUMERS_OF: TenantRuntime.consumers_of,
    TenantOp.INGEST_PROFILE: TenantRuntime.ingest_profile,
    TenantOp.HANDLE_WEBHOOKS: TenantRuntime.handle_webhooks,
    TenantOp.HANDLE_EVENT: TenantRuntime.handle_event,
}


def runtime_op(op: str) -> tuple[TenantOp, Callable[..., Awaitable[Any]]]:
    """The operation named ``op`` and its runtime method; ValueError outside the closed set."""
    try:
        known = TenantOp(op)
    except ValueError as err:
        raise ValueError(f"unknown tenant operation {op!r}") from err
    return known, RUNTIME_OPS[known]


@ray.remote(num_cpus=0.05, max_restarts=-1, max_task_retries=0, max_concurrency=512)  # type: ignore[call-overload]
class TenantHost:
    """Holds the active tenants of its hash slot."""

    def __init__(self, index: int, spawn_runner: Spawn | None = None) -> None:
        self.index = index
        self.settings = load_settings()
        configure_logging(self.settings.log_level)
        lower_priority(self.settings.ray.dispatch_nice)
        # ctx.jobs wakes the job runner through this (``actors.spawn`` passes how to create it)
        self.runner = JobRunnerClient(self.settings.ray.namespace, spawn_runner)
        self._svc: HostServices | None = None
        self.tenants: dict[str, TenantRuntime] = {}
        self._reaper: asyncio.Task[None] | None = None

    async def _services(self) -> HostServices:
        if self._svc is None:
            svc = HostServices.create(self.settings, self.runner)
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
        """Run one operation of the closed set ``TenantOp`` for one tenant."""
        known, method = runtime_op(op)  # refused before the tenant is activated
        runtime = await self._runtime(tenant_id)
        if known in LOCKED_OPS:
            async with runtime.lock:
                return await method(runtime, **kwargs)
        return await method(runtime, **kwargs)

    def forget(self, tenant_id: str) -> bool:
        """Drop one tenant's live objects and tokens (after its deletion); False if not active."""
        runtime = self.tenants.pop(tenant_id, None)
        if self._svc is not None:
            self._svc.forget_tenant(tenant_id)
        if runtime is None:
            return False
        runtime.close()
        return True

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
            "llm": [] if self._svc is None else self._svc.llm.counters_snapshot(),
        }
