"""``JobRun.store`` through the service: an async job on Ray reads and writes its own instance's
store (the rows ``ctx.store`` uses) and nothing of another tenant's instance (real Ray, NATS,
PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tests.serve_app.jobs_helpers import Worker, job_source, worker

__all__ = ["job_source", "worker"]  # fixtures


def test_a_job_uses_its_own_instance_store_and_no_other(
    worker: Worker, serve_url: str, db_fetch: Any
) -> None:
    other = Worker(serve_url, db_fetch)  # a second tenant with the same plugin
    try:
        theirs = other.submit("store", payload={"value": {"tenant": "other"}})
        assert other.outcome(theirs)["ok"] is True
        mine = worker.submit("store", payload={"value": {"n": 1}, "read": f"from-job/{theirs}"})
        outcome = worker.outcome(mine)
        assert outcome["ok"] is True, outcome
        # it saw the key handle_webhook wrote through ctx.store, and not the other's value
        assert outcome["result"]["read"] is None
        assert len(outcome["result"]["submitted"]) == 1
        assert outcome["result"]["submitted"] == worker.kv_keys("submitted/")
        # what it wrote is in its instance's rows (ctx.store reads them), not in the other's
        assert worker.kv(f"from-job/{mine}") == {"n": 1}
        assert other.kv(f"from-job/{mine}") is None
        assert other.kv(f"from-job/{theirs}") == {"tenant": "other"}
        assert worker.kv_keys("from-job/") == [f"from-job/{mine}"]
    finally:
        other.close()
