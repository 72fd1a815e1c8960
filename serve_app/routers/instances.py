"""Plugin instances of a tenant: install, configure, enable/disable, upgrade, uninstall, health.

Every call goes through the tenant's host actor (the only place a tenant's live state is).
"""

from __future__ import annotations

import json
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


async def _change(svc: Services, tenant: str, instance: str, op: str, **kwargs: Any) -> Any:
    """Run a lifecycle change in the tenant's host, then drop this replica's cached webhook
    profile of the instance so the change applies to the next webhook at once."""
    try:
        return await svc.hosts.call(tenant, op, instance_id=instance, **kwargs)
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
    check_config_size(svc, body.config)
    return await _change(svc, tenant, instance, "update", request=body, actor=who.actor)


@router.post("/{instance}/enable", summary="Enable (gated by the plugin's feature flag)")
async def enable(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceView:
    return await _change(svc, tenant, instance, "transition", hook="enable", actor=who.actor)


@router.post("/{instance}/disable", summary="Disable")
async def disable(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceView:
    return await _change(svc, tenant, instance, "transition", hook="disable", actor=who.actor)


@router.post("/{instance}/upgrade", summary="Upgrade to another catalog version")
async def upgrade(
    tenant: str, instance: str, body: UpgradeInstance, who: TenantDep, svc: ServicesDep
) -> InstanceView:
    return await _change(svc, tenant, instance, "upgrade", version=body.version, actor=who.actor)


@router.delete("/{instance}", status_code=204, summary="Uninstall (removes secrets and state)")
async def uninstall(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> Response:
    await _change(svc, tenant, instance, "uninstall", actor=who.actor)
    return Response(status_code=204)


@router.get("/{instance}/health", summary="Health of the instance, with its circuit breakers")
async def health(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> InstanceHealth:
    result: InstanceHealth = await svc.hosts.call(tenant, "health", instance_id=instance)
    return result
