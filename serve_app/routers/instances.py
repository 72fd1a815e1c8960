"""Plugin instances of a tenant: install, configure, enable/disable, upgrade, uninstall, health.

Every call goes through the tenant's host actor (the only place a tenant's live state is).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from core.contracts import (
    CreateInstance,
    InstanceHealth,
    InstanceView,
    UpdateInstance,
    UpgradeInstance,
)
from core.errors import PayloadTooLarge
from serve_app.routers.auth import TenantDep
from serve_app.routers.deps import services
from serve_app.services import Services

router = APIRouter(prefix="/v1/tenants/{tenant}/plugins", tags=["plugin instances"])
ServicesDep = Annotated[Services, Depends(services)]


@asynccontextmanager
async def _changing(svc: Services, tenant: str, instance: str) -> AsyncIterator[None]:
    """Around a lifecycle change in the tenant's host: afterwards drop this replica's cached
    webhook profile of the instance so the change applies to the next webhook at once."""
    try:
        yield
    finally:
        svc.ingest.forget(tenant, instance)


def check_config_size(svc: Services, config: dict[str, Any] | None) -> None:
    """Refuse a config larger than DCODER_HTTP_MAX_CONFIG_BYTES (it is read back on every GET)."""
    if config is None:
        return
    size = len(json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode())
    limit = svc.settings.http.max_config_bytes
    if size > limit:
        raise PayloadTooLarge(
            f"config is {size} bytes JSON-encoded; the limit is {limit} bytes "
            "(DCODER_HTTP_MAX_CONFIG_BYTES)"
        )


@router.post("", status_code=201, summary="Install a plugin instance")
async def create(
    tenant: str, body: CreateInstance, who: TenantDep, svc: ServicesDep
) -> InstanceView:
    check_config_size(svc, body.config)
    return await svc.hosts.create(tenant, body, who.actor)


@router.get("", summary="List instances")
async def list_instances(tenant: str, who: TenantDep, svc: ServicesDep) -> list[InstanceView]:
    return await svc.hosts.list_instances(tenant)


@router.get("/{instance}", summary="One instance")
async def get(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceView:
    return await svc.hosts.get(tenant, instance)


@router.patch("/{instance}", summary="Change config and/or secrets")
async def update(
    tenant: str, instance: str, body: UpdateInstance, who: TenantDep, svc: ServicesDep
) -> InstanceView:
    check_config_size(svc, body.config)
    async with _changing(svc, tenant, instance):
        return await svc.hosts.update(tenant, instance, body, who.actor)


@router.post("/{instance}/enable", summary="Enable (gated by the plugin's feature flag)")
async def enable(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceView:
    async with _changing(svc, tenant, instance):
        return await svc.hosts.transition(tenant, instance, "enable", who.actor)


@router.post("/{instance}/disable", summary="Disable")
async def disable(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceView:
    async with _changing(svc, tenant, instance):
        return await svc.hosts.transition(tenant, instance, "disable", who.actor)


@router.post("/{instance}/upgrade", summary="Upgrade to another catalog version")
async def upgrade(
    tenant: str, instance: str, body: UpgradeInstance, who: TenantDep, svc: ServicesDep
) -> InstanceView:
    async with _changing(svc, tenant, instance):
        return await svc.hosts.upgrade(tenant, instance, body.version, who.actor)


@router.delete("/{instance}", status_code=204, summary="Uninstall (removes secrets and state)")
async def uninstall(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> Response:
    async with _changing(svc, tenant, instance):
        await svc.hosts.uninstall(tenant, instance, who.actor)
    return Response(status_code=204)


@router.get("/{instance}/health", summary="Health of the instance, with its circuit breakers")
async def health(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceHealth:
    return await svc.hosts.health(tenant, instance)
