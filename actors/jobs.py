"""The job runner: one detached actor that runs background jobs as Ray tasks.

Jobs are rows (``core.jobs``); the runner claims queued rows, starts one Ray task per job with
the resources it asked for (``{"sandbox": 1}`` runs only on nodes declaring ``sandbox``), keeps
the task's ref so it can cancel it (timeout, API cancel, same-key supersede), records progress
and the end, and publishes ``job.completed`` / ``job.failed`` to the submitting instance through
JetStream (an outbox: the row is marked ``notified`` only once the event is durable, so a crash
in between publishes again with the same message id). A worker that dies is retried up to the
job's ``max_attempts``. When the actor restarts, jobs it left ``running`` (their tasks died with
it) are queued again or failed, by the same bound. It also drives schedules (``actors.schedules``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from typing import Any

import ray
from ray.exceptions import RayError, RayTaskError, TaskCancelledError

from actors.jobs_task import TaskSpec, job_task
from actors.schedules import ScheduleDriver
from core.bus import H_TARGET, JOB_COMPLETED, JOB_FAILED, Bus
from core.db import Database
from core.endpoints import database_url, nats_url
from core.jobs.runs import ClaimedJob, EndedJob, JobRuns
from core.logging import configure_logging
from core.settings import load_settings
from plugin_sdk.events import Event, EventSource, stable_event_id
from plugin_sdk.jobs import failure_of, outcome_data

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often queued jobs, cancellations and the outbox are looked at without a wake
MAX_RUNNING = 32  # tasks one runner keeps in flight (the rest wait queued in PostgreSQL)
DEFAULT_CPUS = 0.5  # CPU of a job task unless its resources name "CPU"
RECOVERED = "the job runner restarted while the job ran"


@dataclass
class Running:
    claimed: ClaimedJob
    ref: Any
    watcher: asyncio.Task[None]


@ray.remote(num_cpus=0.05, max_restarts=-1, max_task_retries=0, max_concurrency=256)  # type: ignore[call-overload]
class JobRunner:
    """Owns every job task of the namespace (a named, detached, restartable actor)."""

    def __init__(self) -> None:
        self.settings = load_settings()
        configure_logging(self.settings.log_level)
        self.db = Database(database_url(self.settings), self.settings.database)
        self.bus = Bus(nats_url(self.settings), self.settings.nats)
        self.runs = JobRuns(self.db)
        self.schedules = ScheduleDriver(self.settings, self.db, self.bus)
        self.running: dict[str, Running] = {}
        self.stopping: dict[str, str] = {}  # job id -> why we cancelled its task
        self.recovered: dict[str, str] | None = None
        self._wake = asyncio.Event()
        # An async actor is constructed inside its running event loop: start here, so a runner
        # Ray restarted resumes without anyone calling it (a call to itself could be lost).
        self._loop: asyncio.Task[None] | None = asyncio.get_running_loop().create_task(
            self._forever()
        )

    async def start(self) -> bool:
        """Make sure the loop runs (it starts with the actor; this only restarts a dead loop)."""
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._forever())
        return True

    async def wake(self) -> bool:
        """Look at the queue now (a job was submitted or cancelled)."""
        await self.start()
        self._wake.set()
        return True

    async def progress(self, job_id: str, fraction: float, message: str = "") -> None:
        """Called by a job task (fire and forget)."""
        await self.runs.progress(job_id, fraction)

    def stats(self) -> dict[str, Any]:
        """Jobs in flight and what the last start recovered."""
        return {"running": sorted(self.running), "recovered": self.recovered}

    async def _forever(self) -> None:
        while self.recovered is None:
            try:
                self.recovered = await self.runs.recover(RECOVERED)
            except Exception as err:  # noqa: BLE001 - PostgreSQL down: try again
                log.warning("job runner could not recover running jobs: %r", err)
                await asyncio.sleep(POLL_S)
        while True:
            try:
                await self._pass()
            except Exception:  # noqa: BLE001 - boundary: log and try again next pass
                log.exception("job runner pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)
            self._wake.clear()

    async def _pass(self) -> None:
        await self._stop_ended()
        room = MAX_RUNNING - len(self.running)
        if room > 0:
            claimed = await self.runs.claim(room)
            if claimed:
                sources = await self.runs.sources()
                for job in claimed:
                    self._start(job, sources)
        await self._publish_ended()
        await self.schedules.tick()

    async def _stop_ended(self) -> None:
        """Cancel the tasks of jobs cancelled or superseded since they started."""
        if not self.running:
            return
        statuses = await self.runs.statuses(list(self.running))
        for job_id, run in list(self.running.items()):
            status = statuses.get(job_id, "deleted")
            if status != "running" and job_id not in self.stopping:
                self.stopping[job_id] = status
                ray.cancel(run.ref, force=True)

    def _start(self, claimed: ClaimedJob, sources: list[str]) -> None:
        job = claimed.job
        spec = TaskSpec(
            job_id=job.id, tenant_id=job.tenant_id, instance_id=job.instance_id,
            plugin=claimed.plugin, version=claimed.version, kind=job.kind, payload=job.payload,
            config=claimed.config, attempt=job.attempts, sources=sources,
            plugin_dir=str(self.settings.data_dir / "plugins"),
            niceness=os.nice(0) + self.settings.ray.dispatch_nice,
        )  # fmt: skip
        resources = dict(job.resources)
        cpus = resources.pop("CPU", DEFAULT_CPUS)
        me = ray.get_runtime_context().current_actor
        ref = job_task.options(num_cpus=cpus, resources=resources, name=f"job:{job.kind}").remote(
            spec, me
        )
        watcher = asyncio.create_task(self._watch(claimed, ref))
        self.running[job.id] = Running(claimed, ref, watcher)

    async def _watch(self, claimed: ClaimedJob, ref: Any) -> None:
        job = claimed.job
        try:
            result = await asyncio.wait_for(_awaitable(ref), job.timeout_s)
        except TimeoutError:
            self.stopping[job.id] = "timeout"
            ray.cancel(ref, force=True)
            reason = f"timed out after {job.timeout_s:g}s (attempt {job.attempts})"
            await self._end(job.id, None, reason)
        except RayTaskError as err:  # the job's code raised: a result, not a crash
            cause = err.cause if err.cause is not None else err
            # kept beside the text: the error's code, and whether credentials were refused
            # (the host then moves the instance to needs_reauth, as for a hook)
            await self._end(job.id, failure_of(cause), f"{type(cause).__name__}: {cause}"[:2000])
        except (TaskCancelledError, RayError) as err:
            if job.id not in self.stopping:  # the worker died under it: retry (bounded)
                why = f"worker died: {type(err).__name__}"
                status = await self.runs.retry_or_fail(job.id, why)
                log.warning("job %s %s; now %s", job.id, why, status)
                self._wake.set()
        except Exception as err:  # noqa: BLE001 - boundary: never leave a job running
            await self._end(job.id, None, f"{type(err).__name__}: {err}"[:2000])
        else:
            await self._end(job.id, result, None)
        finally:
            self.running.pop(job.id, None)
            self.stopping.pop(job.id, None)

    async def _end(self, job_id: str, result: dict[str, Any] | None, error: str | None) -> None:
        if await self.runs.end(job_id, result, error):
            self._wake.set()  # publish its event in the next pass

    async def _publish_ended(self) -> None:
        for ended in await self.runs.unnotified():
            subject, payload, msg_id, headers = job_event(self.bus, ended)
            await self.bus.publish(subject, payload, msg_id=msg_id, headers=headers)
            await self.runs.mark_notified(ended.job.id)


async def _awaitable(ref: Any) -> Any:
    return await ref


def job_event(bus: Bus, ended: EndedJob) -> tuple[str, bytes, str, dict[str, str]]:
    """``(subject, payload, msg_id, headers)`` of the event announcing the end of a job."""
    job = ended.job
    failed = job.status == "failed"
    event = Event(
        id=stable_event_id("job", job.id, job.status),
        subject=JOB_FAILED if failed else JOB_COMPLETED,
        tenant_id=job.tenant_id,
        source=EventSource(plugin=ended.plugin, instance_id=job.instance_id),
        data=outcome_data(
            job.id, job.kind, job.key, job.result, job.error if failed else None, job.attempts
        ),
    )
    subject = bus.subjects.event(job.tenant_id, event.subject)
    return subject, event.model_dump_json().encode(), event.id, {H_TARGET: job.instance_id}
