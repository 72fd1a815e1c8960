"""The job runner's side of the job rows: claim queued jobs, retry, recover, and the outbox.

Only the job actor uses this. Every state change is a guarded ``UPDATE`` (``WHERE status =
...``), so a job cancelled or superseded through the API while it runs is never marked done
afterwards, and two runners (an actor and its restarted self) never claim one job twice.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from core.db import Database
from core.jobs.store import COLUMNS, Job, _job

_J_COLUMNS = ", ".join(f"j.{c.strip()}" for c in COLUMNS.split(","))


class ClaimedJob(BaseModel):
    """A job the runner started (status running, attempt counted) and the plugin that runs it."""

    job: Job
    plugin: str
    version: str
    config: dict[str, Any]


class EndedJob(BaseModel):
    """A done or failed job whose ``job.completed`` / ``job.failed`` event is not yet out."""

    job: Job
    plugin: str


def _claimed(row: Any) -> ClaimedJob:
    data = dict(row)
    plugin, version, config = data.pop("plugin"), data.pop("version"), data.pop("config")
    if isinstance(config, str):
        config = json.loads(config)
    return ClaimedJob(job=_job(data), plugin=plugin, version=version, config=config)


class JobRuns:
    """Runner-side statements on ``jobs`` (not tenant-scoped: the runner serves every tenant)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, limit: int) -> list[ClaimedJob]:
        """Start up to ``limit`` queued jobs, oldest first (SKIP LOCKED: no double claims)."""
        rows = await self.db.fetch(
            "WITH picked AS (SELECT id FROM jobs WHERE status = 'queued'"
            " ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
            " UPDATE jobs j SET status = 'running', attempts = j.attempts + 1,"
            " started_at = coalesce(j.started_at, now()), error = NULL"
            " FROM picked, plugin_instances i WHERE j.id = picked.id AND i.id = j.instance_id"
            f" RETURNING {_J_COLUMNS}, i.plugin, i.version, i.config",
            limit,
        )
        return [_claimed(r) for r in rows]

    async def statuses(self, job_ids: list[str]) -> dict[str, str]:
        """Current status of each job (a deleted job is missing)."""
        rows = await self.db.fetch(
            "SELECT id, status FROM jobs WHERE id = ANY($1::text[])", job_ids
        )
        return {r["id"]: r["status"] for r in rows}

    async def progress(self, job_id: str, fraction: float) -> None:
        """Record the progress of a running job (ignored once it ended)."""
        await self.db.execute(
            "UPDATE jobs SET progress = $2 WHERE id = $1 AND status = 'running'",
            job_id, min(1.0, max(0.0, fraction)),
        )  # fmt: skip

    async def retry_or_fail(self, job_id: str, reason: str) -> str | None:
        """A running job's worker died: queue it again while attempts remain, else fail it.

        Returns the new status (``None`` when the job was no longer running).
        """
        return await self.db.fetchval(
            "UPDATE jobs SET"
            " status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,"
            " error = CASE WHEN attempts < max_attempts THEN $2"
            " ELSE $2 || ' (attempt ' || attempts || ' of ' || max_attempts || ')' END,"
            " finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END"
            " WHERE id = $1 AND status = 'running' RETURNING status",
            job_id, reason,
        )  # fmt: skip

    async def end(self, job_id: str, result: dict[str, Any] | None, error: str | None) -> bool:
        """Mark a running job done (``error`` None) or failed; False when it was not running."""
        status = "done" if error is None else "failed"
        row = await self.db.fetchval(
            "UPDATE jobs SET status = $2, result = $3::jsonb, error = $4, finished_at = now(),"
            " progress = CASE WHEN $2 = 'done' THEN 1 ELSE progress END"
            " WHERE id = $1 AND status = 'running' RETURNING id",
            job_id, status, None if result is None else json.dumps(result), error,
        )  # fmt: skip
        return row is not None

    async def recover(self, reason: str) -> dict[str, str]:
        """Jobs left running by a dead runner: queued again, or failed past their attempts."""
        rows = await self.db.fetch(
            "SELECT id FROM jobs WHERE status = 'running' ORDER BY started_at"
        )
        out: dict[str, str] = {}
        for row in rows:
            status = await self.retry_or_fail(row["id"], reason)
            if status is not None:
                out[row["id"]] = status
        return out

    async def unnotified(self, limit: int = 100) -> list[EndedJob]:
        """Ended (done / failed) jobs whose event is still to be published."""
        rows = await self.db.fetch(
            f"SELECT {_J_COLUMNS}, i.plugin FROM jobs j JOIN plugin_instances i"
            " ON i.id = j.instance_id WHERE j.status IN ('done', 'failed')"
            " AND j.notified_at IS NULL ORDER BY j.finished_at LIMIT $1",
            limit,
        )
        out = []
        for row in rows:
            data = dict(row)
            plugin = data.pop("plugin")
            out.append(EndedJob(job=_job(data), plugin=plugin))
        return out

    async def sources(self) -> list[str]:
        """Paths of the plugin sources an operator loaded at runtime (a worker loads them too)."""
        rows = await self.db.fetch("SELECT path FROM plugin_sources ORDER BY loaded_at")
        return [r["path"] for r in rows]

    async def mark_notified(self, job_id: str) -> None:
        """The job's event is durable in JetStream."""
        await self.db.execute("UPDATE jobs SET notified_at = now() WHERE id = $1", job_id)
