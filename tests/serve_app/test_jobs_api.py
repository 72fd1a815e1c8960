"""Background jobs end to end: a plugin submits from handle_webhook, the job runs as a Ray task,
its outcome comes back through JetStream to handle_event once; progress, cancel, supersede,
timeout, worker death and tenant isolation through the API (real Ray, NATS, PostgreSQL)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from core.settings import load_settings
from tests.serve_app.api_client import new_tenant
from tests.serve_app.jobs_helpers import Worker, alive, job_source, read, worker

__all__ = ["job_source", "worker"]  # fixtures


def test_job_runs_on_ray_and_its_outcome_reaches_handle_event_once(worker: Worker) -> None:
    job_id = worker.submit("echo", payload={"hello": "world"})

    outcome = worker.outcome(job_id)

    assert outcome == {
        "ok": True, "result": {"echo": {"hello": "world"}, "attempt": 1}, "error": None,
        "attempts": 1, "kind": "echo",
    }  # fmt: skip
    assert len(worker.kv_keys(f"handled/{job_id}/")) == 1
    job = worker.job(job_id)
    assert (job["status"], job["progress"], job["attempts"]) == ("done", 1.0, 1)
    assert job["started_at"] and job["finished_at"]
    listed = worker.tenant.http.get(worker.jobs, params={"status": "done", "kind": "echo"}).json()
    assert [j["id"] for j in listed] == [job_id]
    assert worker.tenant.http.get(worker.jobs, params={"kind": "sleep"}).json() == []


def test_progress_is_visible_and_cancel_stops_the_task(worker: Worker, tmp_path: Path) -> None:
    job_id = worker.submit("sleep", payload={"seconds": 60, "pid_dir": str(tmp_path)})
    running = worker.wait_job(job_id, lambda j: j["progress"] > 0, "progress")
    assert running["status"] == "running" and 0 < running["progress"] < 1
    pid = int(worker.wait(lambda: read(tmp_path / f"{job_id}-1.pid"), "the worker pid"))

    cancelled = worker.tenant.http.post(f"{worker.jobs}/{job_id}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    worker.wait(lambda: not alive(pid), "the cancelled task's worker to stop")
    again = worker.tenant.http.post(f"{worker.jobs}/{job_id}/cancel")
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert worker.job(job_id)["status"] == "cancelled"
    audit = worker.tenant.http.get(f"/v1/tenants/{worker.tenant.id}/audit").json()
    assert any(a["action"] == "job.cancel" and a["target"] == job_id for a in audit), audit


def test_a_newer_job_with_the_same_key_supersedes_and_cancels_the_older(
    worker: Worker, tmp_path: Path
) -> None:
    older = worker.submit("sleep", key="pr-1", payload={"seconds": 60, "pid_dir": str(tmp_path)})
    pid = int(worker.wait(lambda: read(tmp_path / f"{older}-1.pid"), "the older job's pid"))

    newer = worker.submit("echo", key="pr-1", payload={"n": 2})

    assert worker.outcome(newer)["ok"] is True
    old = worker.job(older)
    assert (old["status"], old["superseded_by"]) == ("superseded", newer)
    worker.wait(lambda: not alive(pid), "the superseded task's worker to stop")
    assert worker.kv(f"outcome/{older}") is None  # a superseded job sends no outcome


def test_a_job_over_its_timeout_fails_with_the_reason(worker: Worker) -> None:
    job_id = worker.submit("sleep", timeout_s=2, payload={"seconds": 60})

    outcome = worker.outcome(job_id)

    assert outcome["ok"] is False and "timed out after 2s" in outcome["error"]
    job = worker.job(job_id)
    assert job["status"] == "failed" and "timed out after 2s" in job["error"]


def test_a_raising_job_fails_with_its_error(worker: Worker) -> None:
    job_id = worker.submit("boom")
    outcome = worker.outcome(job_id)
    assert outcome["ok"] is False
    assert outcome["error"] == "ValueError: boom: the job failed on purpose"
    assert worker.job(job_id)["attempts"] == 1  # the job's own error is not retried


def test_a_killed_worker_is_retried_then_the_job_fails(worker: Worker, tmp_path: Path) -> None:
    job_id = worker.submit(
        "sleep", max_attempts=2, payload={"seconds": 60, "pid_dir": str(tmp_path)}
    )
    for attempt in (1, 2):
        pid_file = tmp_path / f"{job_id}-{attempt}.pid"
        pid = int(worker.wait(lambda f=pid_file: read(f), f"attempt {attempt}"))  # type: ignore[misc]
        os.kill(pid, signal.SIGKILL)

    outcome = worker.outcome(job_id)

    assert outcome["ok"] is False and outcome["attempts"] == 2
    assert "worker died" in outcome["error"] and "(attempt 2 of 2)" in outcome["error"]
    assert worker.job(job_id)["status"] == "failed"


def test_a_sandbox_job_runs_where_the_sandbox_resource_is(worker: Worker) -> None:
    job_id = worker.submit("where")
    outcome = worker.outcome(job_id)
    assert outcome["ok"] is True
    assert outcome["result"]["resources"].get("sandbox") == 1
    # background work: below the ingest replicas (Ray's workers start at 0, as `up` starts them)
    assert outcome["result"]["niceness"] == load_settings().ray.dispatch_nice > 0


def test_another_tenant_can_neither_see_nor_cancel_a_job(
    worker: Worker, serve_url: str, tmp_path: Path
) -> None:
    job_id = worker.submit("sleep", payload={"seconds": 30})
    other = new_tenant(serve_url, "other")
    try:
        for response in (
            other.http.get(f"/v1/tenants/{other.id}/jobs/{job_id}"),
            other.http.post(f"/v1/tenants/{other.id}/jobs/{job_id}/cancel"),
            other.http.get(f"/v1/tenants/{worker.tenant.id}/jobs/{job_id}"),
            other.http.post(f"/v1/tenants/{worker.tenant.id}/jobs/{job_id}/cancel"),
            other.http.get(f"/v1/tenants/{worker.tenant.id}/jobs"),
        ):
            assert response.status_code == 404, response.text
            assert response.headers["content-type"] == "application/problem+json"
        assert other.http.get(f"/v1/tenants/{other.id}/jobs").json() == []
        assert worker.job(job_id)["status"] in ("queued", "running")
    finally:
        other.http.close()
        worker.tenant.http.post(f"{worker.jobs}/{job_id}/cancel")
