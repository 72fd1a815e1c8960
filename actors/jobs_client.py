"""How tenant hosts and the ingress reach the job runner (every wait has a timeout).

``ServiceJobQueue`` is the ``JobQueue`` behind a plugin's ``ctx.jobs`` in the service: it writes
the job row (superseding a live job of the same key in the same transaction) and wakes the
runner. The row is the truth: a lost wake only delays the start until the runner's next poll.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from actors import naming
from core.errors import DependencyUnavailable
from core.jobs.store import JobOptions, JobStore
from plugin_sdk.jobs import JobSubmission

log = logging.getLogger(__name__)


def runner_handle(namespace: str) -> Any:
    """The detached job runner actor, created on first use (idempotent across processes)."""
    from actors.jobs import JobRunner

    return JobRunner.options(  # type: ignore[attr-defined]
        name=naming.JOB_RUNNER, namespace=namespace, lifetime="detached", get_if_exists=True
    ).remote()


def start_job_runner(namespace: str) -> Any:
    """Make sure the job runner exists and runs (idempotent)."""
    runner = runner_handle(namespace)
    runner.start.remote()
    return runner


class JobRunnerClient:
    """Wakes the runner (after a submit or a cancel); failures are logged, never raised."""

    def __init__(self, namespace: str, timeout_s: float = 5.0) -> None:
        self.namespace = namespace
        self.timeout_s = timeout_s
        self._handle: Any = None

    async def wake(self) -> bool:
        """Ask the runner to look at the queue now; False when it did not answer in time."""
        try:
            if self._handle is None:
                self._handle = await asyncio.to_thread(runner_handle, self.namespace)
            await asyncio.wait_for(self._handle.wake.remote(), self.timeout_s)
        except Exception as err:  # noqa: BLE001 - the runner polls anyway: a lost wake only delays
            self._handle = None
            log.warning("job runner did not answer a wake: %r", err)
            return False
        return True

    async def stats(self) -> dict[str, Any]:
        """The runner's jobs in flight (``DependencyUnavailable`` when it does not answer)."""
        try:
            if self._handle is None:
                self._handle = await asyncio.to_thread(runner_handle, self.namespace)
            result: dict[str, Any] = await asyncio.wait_for(
                self._handle.stats.remote(), self.timeout_s
            )
        except Exception as err:  # noqa: BLE001 - one error for every Ray failure
            self._handle = None
            raise DependencyUnavailable(f"job runner unavailable: {err!r}") from err
        return result


_clients: dict[str, JobRunnerClient] = {}


def runner_client(namespace: str) -> JobRunnerClient:
    """The process's client of the namespace's runner."""
    if namespace not in _clients:
        _clients[namespace] = JobRunnerClient(namespace)
    return _clients[namespace]


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
