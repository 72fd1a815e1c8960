"""The operator's view of the audit trail: every record, former tenant incarnations included.

A tenant reads its own trail at ``GET /v1/tenants/{tenant}/audit`` (its current incarnation
only); deletions of tenants and operator actions are read here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from core.audit import AuditRecord
from serve_app.routers.auth import OperatorDep
from serve_app.routers.deps import services
from serve_app.services import Services

router = APIRouter(prefix="/v1/audit", tags=["audit"])
ServicesDep = Annotated[Services, Depends(services)]


@router.get("", summary="Audit records, newest first (operator; every tenant incarnation)")
async def audit(
    who: OperatorDep,
    svc: ServicesDep,
    tenant: Annotated[
        str | None, Query(max_length=63, description="only this tenant id (every incarnation)")
    ] = None,
    before: Annotated[int | None, Query(ge=1, description="records with a smaller id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditRecord]:
    return await svc.audit.search(tenant, limit=limit, before=before)
