"""Who is calling: the operator (operator key) or a tenant (its API key), as a dependency.

A tenant key used on another tenant's path gets 404, exactly like a tenant that does not exist,
so keys never reveal which tenants or resources exist.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from core.errors import Forbidden, NotFound, Unauthorized
from serve_app.routers.deps import services
from serve_app.services import Services


@dataclass(frozen=True)
class Principal:
    kind: str  # "operator" | "tenant"
    tenant_id: str | None

    @property
    def actor(self) -> str:
        return "operator" if self.kind == "operator" else f"tenant:{self.tenant_id}"


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <key>'")
    return token.strip()


async def principal(request: Request, svc: Annotated[Services, Depends(services)]) -> Principal:
    """The caller, from its bearer key."""
    token = _bearer(request)
    if hmac.compare_digest(token.encode(), svc.operator_key.encode()):
        return Principal("operator", None)
    tenant_id = await svc.tenants.authenticate(token)
    if tenant_id is None:
        raise Unauthorized("unknown or revoked key")
    return Principal("tenant", tenant_id)


PrincipalDep = Annotated[Principal, Depends(principal)]


async def operator(who: PrincipalDep) -> Principal:
    """Only the operator."""
    if who.kind != "operator":
        raise Forbidden("this operation needs the operator key")
    return who


async def tenant_scope(
    tenant: str, who: PrincipalDep, svc: Annotated[Services, Depends(services)]
) -> Principal:
    """The tenant in the path, reachable by its own key or the operator's; others get 404."""
    if who.kind == "tenant" and who.tenant_id != tenant:
        raise NotFound(f"no tenant {tenant!r}")
    if who.kind == "operator":
        await svc.tenants.get(tenant)
    return who


OperatorDep = Annotated[Principal, Depends(operator)]
TenantDep = Annotated[Principal, Depends(tenant_scope)]
