"""The job-worker test plugin as an enabled instance of a fresh tenant, and ways to observe it."""

from __future__ import annotations

import json
import os
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


_loaded: dict[str, Path] = {}  # serve_url -> plugin path (modules importing the fixture share it)


@pytest.fixture(scope="session")
def job_source(serve_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if serve_url in _loaded:
        return _loaded[serve_url]
    path = write_job_plugin(tmp_path_factory.mktemp("job-plugins"))
    with operator(serve_url) as op:
        response = op.post("/v1/plugins/sources", json={"path": str(path)})
    assert response.status_code == 201, response.text
    assert response.json()["loaded"] == ["job-worker@1.0.0"], response.text
    _loaded[serve_url] = path
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


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def read(path: Path) -> str | None:
    try:
        return path.read_text() or None
    except FileNotFoundError:
        return None
