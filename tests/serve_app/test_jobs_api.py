"""Background jobs end to end: a plugin submits from handle_webhook, the job runs as a Ray task,
its outcome comes back through JetStream to handle_event once; progress, cancel, supersede,
timeout, worker death and tenant isolation through the API (real Ray, NATS, PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.job_plugin import write_job_plugin
from tests.serve_app.api_client import TenantClient, new_tenant, operator, whsec
from tests.serve_app.webhook_helpers import signed

WAIT_S = 90.0


@pytest.fixture(scope="session")
def job_source(serve_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_job_plugin(tmp_path_factory.mktemp("job-plugins"))
    with operator(serve_url) as op:
        response = op.post("/v1/plugins/sources", json={"path": str(path)})
    assert response.status_code == 201, response.text
    assert response.json()["loaded"] == ["job-worker@1.0.0"], response.text
    return path


class Worker:
    """One enabled job-worker instance of a fresh tenant, and ways to drive and observe it."""

    def __init__(self, serve_url: str, db_fetch: Callable[..., list[Any]]) -> None:
        self.serve_url, self.db_fetch = serve_url, db_fetch
        self.tenant: TenantClient = new_tenant(serve_url, "jobs")
        self.secret = whsec()
        base = f"/v1/tenants/{self.tenant.id}/plugins"
        created = self.tenant.http.post(base, json={
            "plugin": "job-worker", "name": "worker", "secrets": {"signing_secret": self.secret},
        })  # fmt: skip
        assert created.status_code == 201, created.text
        self.iid = created.json()["id"]
        assert self.tenant.http.post(f"{base}/{self.iid}/enable").status_code == 200
        self.jobs = f"/v1/tenants/{self.tenant.id}/jobs"

    def submit(self, kind: str, **spec: Any) -> str:
        """Send a webhook asking the plugin for a job; the job id it got."""
        body = json.dumps({"kind": kind, **spec}).encode()
        response = httpx.post(
            f"{self.serve_url}/v1/webhooks/{self.tenant.id}/{self.iid}", content=body,
            headers=signed(self.secret, body, f"m-{uuid.uuid4().hex}"), timeout=30,
        )  # fmt: skip
        assert response.status_code == 202, response.text
        key = f"submitted/{response.json()['delivery_id']}"
        return str(self.wait(lambda: self.kv(key), f"job id at {key}"))

    def kv(self, key: str) -> Any:
        rows = self.db_fetch(
            "SELECT value FROM instance_kv WHERE instance_id = $1 AND key = $2", self.iid, key
        )
        return json.loads(rows[0]["value"]) if rows else None

    def kv_keys(self, prefix: str) -> list[str]:
        rows = self.db_fetch(
            "SELECT key FROM instance_kv WHERE instance_id = $1 AND starts_with(key, $2)",
            self.iid, prefix,
        )  # fmt: skip
        return sorted(r["key"] for r in rows)

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.tenant.http.get(f"{self.jobs}/{job_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_job(self, job_id: str, check: Callable[[dict[str, Any]], bool], what: str) -> dict:
        def probe() -> dict[str, Any] | None:
            job = self.job(job_id)
            return job if check(job) else None

        return dict(self.wait(probe, what))

    def outcome(self, job_id: str) -> dict[str, Any]:
        return dict(self.wait(lambda: self.kv(f"outcome/{job_id}"), f"outcome of {job_id}"))

    @staticmethod
    def wait(probe: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = probe()
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")

    def close(self) -> None:
        # the plugin has a 1 s schedule: stop it so idle instances don't load the session
        self.tenant.http.post(f"/v1/tenants/{self.tenant.id}/plugins/{self.iid}/disable")
        self.tenant.http.close()


@pytest.fixture
def worker(serve_url: str, job_source: Path, db_fetch: Any) -> Iterator[Worker]:
    w = Worker(serve_url, db_fetch)
    yield w
    w.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


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
    pid = int(worker.wait(lambda: _read(tmp_path / f"{job_id}-1.pid"), "the worker pid"))

    cancelled = worker.tenant.http.post(f"{worker.jobs}/{job_id}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    worker.wait(lambda: not _alive(pid), "the cancelled task's worker to stop")
    again = worker.tenant.http.post(f"{worker.jobs}/{job_id}/cancel")
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert worker.job(job_id)["status"] == "cancelled"


def test_a_newer_job_with_the_same_key_supersedes_and_cancels_the_older(
    worker: Worker, tmp_path: Path
) -> None:
    older = worker.submit("sleep", key="pr-1", payload={"seconds": 60, "pid_dir": str(tmp_path)})
    pid = int(worker.wait(lambda: _read(tmp_path / f"{older}-1.pid"), "the older job's pid"))

    newer = worker.submit("echo", key="pr-1", payload={"n": 2})

    assert worker.outcome(newer)["ok"] is True
    old = worker.job(older)
    assert (old["status"], old["superseded_by"]) == ("superseded", newer)
    worker.wait(lambda: not _alive(pid), "the superseded task's worker to stop")
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
        pid = int(worker.wait(lambda f=pid_file: _read(f), f"attempt {attempt}"))  # type: ignore[misc]
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


def _read(path: Path) -> str | None:
    try:
        return path.read_text() or None
    except FileNotFoundError:
        return None
