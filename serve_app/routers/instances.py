"""Plugin instances of a tenant: install, configure, enable/disable, upgrade, uninstall, health.

Every call goes through the tenant's host actor (the only place a tenant's live state is).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from core.contracts import (
    CreateInstance,
    InstanceHealth,
    InstanceView,
    UpdateInstance,
    UpgradeInstance,
)
from serve_app.routers.auth import TenantDep
from serve_app.routers.deps import services
from serve_app.services import Services

router = APIRouter(prefix="/v1/tenants/{tenant}/plugins", tags=["plugin instances"])
ServicesDep = Annotated[Services, Depends(services)]


@router.post("", status_code=201, summary="Install a plugin instance")
async def create(
    tenant: str, body: CreateInstance, who: TenantDep, svc: ServicesDep
) -> InstanceView:
    result: InstanceView = await svc.hosts.call(tenant, "create", request=body, actor=who.actor)
    return result


@router.get("", summary="List instances")
async def list_instances(tenant: str, who: TenantDep, svc: ServicesDep) -> list[InstanceView]:
    result: list[InstanceView] = await svc.hosts.call(tenant, "list_instances")
    return result


@router.get("/{instance}", summary="One instance")
async def get(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceView:
    result: InstanceView = await svc.hosts.call(tenant, "get", instance_id=instance)
    return result


@router.patch("/{instance}", summary="Change config and/or secrets")
async def update(
    tenant: str, instance: str, body: UpdateInstance, who: TenantDep, svc: ServicesDep
) -> InstanceView:
    result: InstanceView = await svc.hosts.call(
        tenant, "update", instance_id=instance, request=body, actor=who.actor
    )
    svc.ingest.forget(tenant, instance)
    return result


@router.post("/{instance}/enable", summary="Enable (gated by the plugin's feature flag)")
async def enable(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceView:
    result: InstanceView = await svc.hosts.call(
        tenant, "transition", instance_id=instance, hook="enable", actor=who.actor
    )
    svc.ingest.forget(tenant, instance)
    return result


@router.post("/{instance}/disable", summary="Disable")
async def disable(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceView:
    result: InstanceView = await svc.hosts.call(
        tenant, "transition", instance_id=instance, hook="disable", actor=who.actor
    )
    svc.ingest.forget(tenant, instance)
    return result


@router.post("/{instance}/upgrade", summary="Upgrade to another catalog version")
async def upgrade(
    tenant: str, instance: str, body: UpgradeInstance, who: TenantDep, svc: ServicesDep
) -> InstanceView:
    result: InstanceView = await svc.hosts.call(
        tenant, "upgrade", instance_id=instance, version=body.version, actor=who.actor
    )
    svc.ingest.forget(tenant, instance)
    return result


@router.delete("/{instance}", status_code=204, summary="Uninstall (removes secrets and state)")
async def uninstall(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> Response:
    await svc.hosts.call(tenant, "uninstall", instance_id=instance, actor=who.actor)
    svc.ingest.forget(tenant, instance)
    return Response(status_code=204)


@router.get("/{instance}/health", summary="Health of the instance, with its circuit breakers")
async def health(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceHealth:
    result: InstanceHealth = await svc.hosts.call(tenant, "health", instance_id=instance)
    return result
