"""``ctx.jobs`` in the service: the ``JobQueue`` a tenant host gives each plugin instance.

It writes the job row (superseding a live job of the same key in the same transaction) and wakes
the runner through ``actors.handles.JobRunnerClient`` (the one place Ray is called; nothing here
touches it). The row is the truth: a lost wake only delays the start until the runner's next poll.
"""

from __future__ import annotations

import logging

from actors.handles import JobRunnerClient
from core.jobs.store import JobOptions, JobStore
from plugin_sdk.jobs import JobSubmission

log = logging.getLogger(__name__)


class ServiceJobQueue:
    """``JobQueue`` of one plugin instance in the service."""

    def __init__(
        self, store: JobStore, runner: JobRunnerClient, tenant_id: str, instance_id: str
    ) -> None:
        self.store = store
        self.runner = runner
        self.tenant_id = tenant_id
        self.instance_id = instance_id

    async def submit(self, job: JobSubmission) -> str:
        """Write the row (superseding same-key jobs), wake the runner; return the job id."""
        options = JobOptions(
            resources=job.resources, timeout_s=job.timeout_s, max_attempts=job.max_attempts
        )
        row, superseded = await self.store.submit(
            self.tenant_id, self.instance_id, job.kind, job.payload, key=job.key, options=options
        )
        if superseded:
            log.info("job %s supersedes %s", row.id, superseded)
        await self.runner.wake()
        return row.id
