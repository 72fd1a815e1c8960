"""Job rows in PostgreSQL: submit (superseding same-key jobs), lifecycle, tenant-scoped reads.

Plugins submit through ``ctx.jobs`` (the tenant host writes the row); the job actor
(``actors/jobs.py``) runs them as Ray tasks with ``core.jobs.runs.JobRuns``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from core.db import Database
from core.errors import Conflict, NotFound

LIVE = ("queued", "running")
STATUSES = ("queued", "running", "done", "failed", "cancelled", "superseded")
COLUMNS = (
    "id, tenant_id, instance_id, kind, key, payload, status, attempts, progress, result, error,"
    " superseded_by, created_at, started_at, finished_at, resources, timeout_s, max_attempts"
)


class Job(BaseModel):
    """One job as the API shows it."""

    id: str
    tenant_id: str
    instance_id: str
    kind: str
    key: str | None
    payload: dict[str, Any]
    status: str
    attempts: int
    progress: float
    result: dict[str, Any] | None
    error: str | None
    superseded_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    resources: dict[str, float] = {}
    timeout_s: float = 600.0
    max_attempts: int = 3


class JobOptions(BaseModel):
    """How a job runs: Ray resources, wall timeout per attempt, attempts when a worker dies."""

    resources: dict[str, float] = {}
    timeout_s: float = 600.0
    max_attempts: int = 3


def _job(row: Any) -> Job:
    data = dict(row)
    for name in ("payload", "result", "resources"):
        if isinstance(data[name], str):
            data[name] = json.loads(data[name])
    return Job(**data)


class JobStore:
    """Every read is scoped by tenant; a foreign job id is ``NotFound``, like a missing one."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def submit(
        self,
        tenant_id: str,
        instance_id: str,
        kind: str,
        payload: dict[str, Any],
        *,
        key: str | None = None,
        options: JobOptions | None = None,
    ) -> tuple[Job, list[str]]:
        """Queue a job; returns it and the ids of the live same-key jobs it superseded."""
        job_id = f"job-{uuid.uuid4().hex}"
        opts = options or JobOptions()
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO jobs (id, tenant_id, instance_id, kind, key, payload, status,"
                " resources, timeout_s, max_attempts)"
                " VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'queued', $7::jsonb, $8, $9)"
                f" RETURNING {COLUMNS}",
                job_id, tenant_id, instance_id, kind, key, json.dumps(payload),
                json.dumps(opts.resources), opts.timeout_s, opts.max_attempts,
            )  # fmt: skip
            superseded: list[str] = []
            if key is not None:
                rows = await conn.fetch(
                    "UPDATE jobs SET status = 'superseded', superseded_by = $1, finished_at = now()"
                    " WHERE tenant_id = $2 AND instance_id = $3 AND key = $4 AND id <> $1"
                    " AND status = ANY($5::text[]) RETURNING id",
                    job_id, tenant_id, instance_id, key, list(LIVE),
                )  # fmt: skip
                superseded = [r["id"] for r in rows]
        return _job(row), superseded

    async def get(self, tenant_id: str, job_id: str) -> Job:
        """The job ``job_id`` of ``tenant_id`` (``NotFound`` otherwise)."""
        row = await self.db.fetchrow(
            f"SELECT {COLUMNS} FROM jobs WHERE tenant_id = $1 AND id = $2", tenant_id, job_id
        )
        if row is None:
            raise NotFound(f"no job {job_id!r} in tenant {tenant_id!r}")
        return _job(row)

    async def list(
        self,
        tenant_id: str,
        *,
        status: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """The tenant's newest jobs first, optionally of one status / kind / created since."""
        rows = await self.db.fetch(
            f"SELECT {COLUMNS} FROM jobs WHERE tenant_id = $1"
            " AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)"
            " AND ($4::timestamptz IS NULL OR created_at >= $4)"
            " ORDER BY created_at DESC, id LIMIT $5",
            tenant_id, status, kind, since, limit,
        )  # fmt: skip
        return [_job(r) for r in rows]

    async def _update(self, tenant_id: str, job_id: str, sets: str, *args: Any) -> Job:
        row = await self.db.fetchrow(
            f"UPDATE jobs SET {sets} WHERE tenant_id = $1 AND id = $2"
            f" AND status = ANY($3::text[]) RETURNING {COLUMNS}",
            tenant_id, job_id, list(LIVE), *args,
        )  # fmt: skip
        if row is None:
            job = await self.get(tenant_id, job_id)  # NotFound when foreign or missing
            raise Conflict(f"job {job_id!r} is already {job.status}")
        return _job(row)

    async def start(self, tenant_id: str, job_id: str) -> Job:
        """Mark a live job running and count the attempt."""
        return await self._update(
            tenant_id, job_id,
            "status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now())",
        )  # fmt: skip

    async def set_progress(self, tenant_id: str, job_id: str, progress: float) -> Job:
        """Record progress in 0..1 (clamped)."""
        value = min(1.0, max(0.0, progress))
        return await self._update(tenant_id, job_id, "progress = $4", value)

    async def finish(self, tenant_id: str, job_id: str, result: dict[str, Any]) -> Job:
        """Mark a live job done with its result summary."""
        return await self._update(
            tenant_id, job_id,
            "status = 'done', progress = 1, result = $4::jsonb, finished_at = now()",
            json.dumps(result),
        )  # fmt: skip

    async def fail(self, tenant_id: str, job_id: str, reason: str) -> Job:
        """Mark a live job failed with a reason."""
        return await self._update(
            tenant_id, job_id, "status = 'failed', error = $4, finished_at = now()", reason
        )

    async def cancel(self, tenant_id: str, job_id: str) -> Job:
        """Cancel a live job (``Conflict`` when it already ended, ``NotFound`` when foreign)."""
        return await self._update(tenant_id, job_id, "status = 'cancelled', finished_at = now()")
