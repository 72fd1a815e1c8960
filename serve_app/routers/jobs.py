"""A tenant's background jobs: list, read (progress visible), cancel."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from core.jobs.store import Job, JobStore
from serve_app.routers.auth import TenantDep
from serve_app.routers.deps import IsoDateTime, services
from serve_app.services import Services

router = APIRouter(tags=["jobs"])
ServicesDep = Annotated[Services, Depends(services)]
Status = Literal["queued", "running", "done", "failed", "cancelled", "superseded"]


@router.get("/v1/tenants/{tenant}/jobs", summary="Background jobs, newest first")
async def list_jobs(
    tenant: str,
    who: TenantDep,
    svc: ServicesDep,
    status: Status | None = None,
    kind: str | None = None,
    since: IsoDateTime | None = None,
    limit: int = 100,
) -> list[Job]:
    return await JobStore(svc.db).list(
        tenant, status=status, kind=kind, since=since, limit=max(1, min(limit, 1000))
    )


@router.get("/v1/tenants/{tenant}/jobs/{job_id}", summary="One job with its progress")
async def get_job(tenant: str, job_id: str, who: TenantDep, svc: ServicesDep) -> Job:
    return await JobStore(svc.db).get(tenant, job_id)


@router.post(
    "/v1/tenants/{tenant}/jobs/{job_id}/cancel",
    summary="Cancel a queued or running job (409 when it already ended)",
)
async def cancel_job(tenant: str, job_id: str, who: TenantDep, svc: ServicesDep) -> Job:
    job = await JobStore(svc.db).cancel(tenant, job_id)
    await svc.runner.wake()  # stops the task now, not next poll
    async with svc.db.transaction() as conn:
        record = await svc.audit.record(
            conn, tenant_id=tenant, actor=who.actor, action="job.cancel", target=job_id,
            details={"kind": job.kind, "instance_id": job.instance_id},
        )  # fmt: skip
    await svc.audit.publish(record)
    return job
