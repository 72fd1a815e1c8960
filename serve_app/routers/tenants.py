"""Tenants and their API keys (operator creates tenants; tenants manage their own keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from core.audit import AuditRecord
from core.errors import Forbidden
from core.tenancy import ApiKeyInfo, IssuedKey, Tenant
from serve_app.routers.auth import OperatorDep, TenantDep
from serve_app.routers.deps import services
from serve_app.services import Services

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])
ServicesDep = Annotated[Services, Depends(services)]


class CreateTenant(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(description="2-63 chars of a-z, 0-9 and '-'")
    name: str = Field(min_length=1, max_length=200)


class CreatedTenant(BaseModel):
    tenant: Tenant
    api_key: IssuedKey = Field(description="shown once; only its hash is stored")


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    revoke_others: bool = Field(False, description="rotate: every older key stops working")


@router.post("", status_code=201, summary="Create a tenant (operator)")
async def create_tenant(body: CreateTenant, who: OperatorDep, svc: ServicesDep) -> CreatedTenant:
    tenant, key = await svc.tenants.create(body.id, body.name)
    async with svc.db.transaction() as conn:
        record = await svc.audit.record(
            conn, tenant_id=tenant.id, actor=who.actor, action="tenant.create", target=tenant.id
        )
    await svc.audit.publish(record)
    return CreatedTenant(tenant=tenant, api_key=key)


@router.get("", summary="List tenants (operator)")
async def list_tenants(who: OperatorDep, svc: ServicesDep) -> list[Tenant]:
    return await svc.tenants.list_tenants()


@router.get("/{tenant}", summary="One tenant")
async def get_tenant(tenant: str, who: TenantDep, svc: ServicesDep) -> Tenant:
    return await svc.tenants.get(tenant)


@router.delete("/{tenant}", status_code=204, summary="Delete a tenant and all it owns (operator)")
async def delete_tenant(tenant: str, who: TenantDep, svc: ServicesDep) -> Response:
    # Scope first: another tenant's key gets 404 here too, the tenant's own key 403.
    if who.kind != "operator":
        raise Forbidden("deleting a tenant needs the operator key")
    async with svc.db.transaction() as conn:
        ended = await svc.tenants.delete(conn, tenant)
        # Recorded under the incarnation it ended: the operator reads it (GET /v1/audit), a
        # tenant created later with this id does not.
        record = await svc.audit.record(
            conn, tenant_id=tenant, actor=who.actor, action="tenant.delete", target=tenant,
            incarnation=ended,
        )  # fmt: skip
    await svc.audit.publish(record)
    await svc.forget_tenant(tenant)
    return Response(status_code=204)


@router.post("/{tenant}/keys", status_code=201, summary="Issue a key (rotate with revoke_others)")
async def issue_key(tenant: str, body: NewKey, who: TenantDep, svc: ServicesDep) -> IssuedKey:
    key = await svc.tenants.issue_key(tenant, revoke_others=body.revoke_others)
    async with svc.db.transaction() as conn:
        record = await svc.audit.record(
            conn, tenant_id=tenant, actor=who.actor, action="key.issue", target=key.id,
            details={"revoke_others": body.revoke_others},
        )  # fmt: skip
    await svc.audit.publish(record)
    return key


@router.get("/{tenant}/keys", summary="Key metadata (never the keys)")
async def list_keys(tenant: str, who: TenantDep, svc: ServicesDep) -> list[ApiKeyInfo]:
    return await svc.tenants.keys(tenant)


@router.delete("/{tenant}/keys/{key_id}", status_code=204, summary="Revoke a key")
async def revoke_key(tenant: str, key_id: str, who: TenantDep, svc: ServicesDep) -> Response:
    await svc.tenants.revoke_key(tenant, key_id)
    async with svc.db.transaction() as conn:
        record = await svc.audit.record(
            conn, tenant_id=tenant, actor=who.actor, action="key.revoke", target=key_id
        )
    await svc.audit.publish(record)
    return Response(status_code=204)


@router.get("/{tenant}/audit", summary="Audit trail of the tenant, newest first")
async def audit_trail(tenant: str, who: TenantDep, svc: ServicesDep) -> list[AuditRecord]:
    return await svc.audit.list(tenant)
