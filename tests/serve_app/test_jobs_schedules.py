"""Schedules and runner recovery end to end (real Ray, NATS, PostgreSQL).

The job-worker plugin declares a 1 s schedule ``tick`` whose ``run_scheduled`` writes one key
per call; the lease row counts firings. A second driver in this process races the runner's.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import ray

from actors.naming import JOB_RUNNER
from actors.schedules import ScheduleDriver
from core.bus import Bus
from core.db import Database
from core.endpoints import database_url, nats_url
from core.settings import load_settings
from tests.serve_app.jobs_helpers import Worker, job_source, read, worker

__all__ = ["job_source", "worker"]  # fixtures


def _lease(worker: Worker) -> dict[str, Any]:
    rows = worker.db_fetch(
        "SELECT next_at, fired_tick, fired_count, now() AS db_now FROM schedule_leases"
        " WHERE instance_id = $1 AND name = 'tick'",
        worker.iid,
    )
    return dict(rows[0]) if rows else {}


def _ticks(worker: Worker) -> int:
    return len(worker.kv_keys("tick/"))


def _settled(worker: Worker) -> int | None:
    """The lease's firing count once every firing was handled (else None)."""
    fired = int(_lease(worker)["fired_count"])
    return fired if fired and _ticks(worker) == fired else None


def _fired_since(worker: Worker, count: int) -> dict[str, Any] | None:
    lease = _lease(worker)
    return lease if lease["fired_count"] > count else None


class SecondDriver:
    """Another schedule driver (its own pool and connection) ticking in a thread until stopped."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.fired = 0
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        settings = load_settings()
        db = Database(database_url(settings), settings.database)
        bus = Bus(nats_url(settings), settings.nats)
        driver = ScheduleDriver(settings, db, bus)
        try:
            while not self.stop.is_set():
                self.fired += await driver.tick(force=True)
                await asyncio.sleep(0.05)
        finally:
            await bus.close()
            await db.close()

    def __enter__(self) -> SecondDriver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def test_each_tick_fires_once_with_two_drivers_and_never_while_disabled(worker: Worker) -> None:
    with SecondDriver():
        worker.wait(lambda: _ticks(worker) >= 4, "four ticks")
    base = f"/v1/tenants/{worker.tenant.id}/plugins/{worker.iid}"
    assert worker.tenant.http.post(f"{base}/disable").status_code == 200
    # every firing is handled once: the handled ticks catch up with the lease's count, no more
    fired = worker.wait(lambda: _settled(worker), "the handled ticks to match the firings")
    assert fired >= 4

    time.sleep(2.5)  # more than two periods while disabled

    assert _lease(worker)["fired_count"] == fired and _ticks(worker) == fired


def test_ticks_missed_while_disabled_run_once_on_enable(worker: Worker) -> None:
    worker.wait(lambda: _ticks(worker) >= 1, "a first tick")
    base = f"/v1/tenants/{worker.tenant.id}/plugins/{worker.iid}"
    assert worker.tenant.http.post(f"{base}/disable").status_code == 200
    worker.wait(lambda: _settled(worker), "quiet")
    worker.db_fetch(
        "UPDATE schedule_leases SET next_at = now() - interval '1 hour'"
        " WHERE instance_id = $1 RETURNING name",
        worker.iid,
    )  # an hour of downtime: 3600 missed ticks
    missed = _lease(worker)
    before = missed["fired_count"]

    assert worker.tenant.http.post(f"{base}/enable").status_code == 200
    caught_up = worker.wait(lambda: _fired_since(worker, before), "the missed tick")

    assert caught_up["fired_tick"] == missed["next_at"]  # the overdue tick fired...
    assert caught_up["next_at"] > missed["db_now"]  # ...and the next is after now, not +1 s
    time.sleep(2.0)
    assert _lease(worker)["fired_count"] - before <= 4  # not thousands of catch-up firings


def test_a_restarted_runner_requeues_the_job_it_left_running(
    worker: Worker, ray_address: str, tmp_path: Path
) -> None:
    job_id = worker.submit("sleep", payload={"seconds": 3, "pid_dir": str(tmp_path)})
    worker.wait(lambda: read(tmp_path / f"{job_id}-1.pid"), "the first attempt")
    runner = ray.get_actor(JOB_RUNNER, namespace=load_settings().ray.namespace)

    ray.kill(runner, no_restart=False)  # Ray restarts it; its task dies with it

    try:
        outcome = worker.outcome(job_id)
    except AssertionError as err:
        stats = ray.get(runner.stats.remote(), timeout=30)
        raise AssertionError(f"{err}: job {worker.job(job_id)}; runner {stats}") from err
    assert outcome["ok"] is True and outcome["attempts"] == 2
    assert read(tmp_path / f"{job_id}-2.pid")
    assert len(worker.kv_keys(f"handled/{job_id}/")) == 1
