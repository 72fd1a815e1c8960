"""The Jira benchmark's history syncs: in a child process (the SDK's in-memory store) and as the
``sync-history`` job through the service (a Ray worker writing the instance store in PostgreSQL),
followed there by the ``fit-model`` job on the whole synced history.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

import httpx

from bench.support.jira_site import Site
from bench.support.waiting import wait

_SYNC_CHILD = """
import asyncio, json, resource, sys, time
import httpx
from plugin_sdk.memory import MemoryKeyValueStore
from plugins.jira import history
from plugins.jira.client import JiraClient
url, email, token, mode = sys.argv[1:5]
async def main():
    async with httpx.AsyncClient(auth=httpx.BasicAuth(email, token), timeout=60) as http:
        client = JiraClient(http, url)
        fields = await client.discover_fields()
        store, pages = MemoryKeyValueStore(), 0
        started = time.perf_counter()
        if mode == "sync":
            meta = await history.sync(client, store, fields, [], 3600)
            count = meta.count
        else:
            jql = history.history_jql(fields.story_points, [], None)
            count = 0
            wanted = ["summary", "description", "components", "labels", "issuetype", "created",
                      "updated", fields.story_points]
            async for _ in client.search(jql, wanted):
                count += 1
        took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"count": count, "seconds": took, "peak_mib": peak}))
asyncio.run(main())
"""


def sync_child(site: Site, mode: str) -> dict[str, Any]:
    """``mode`` "sync": ``history.sync`` of every story; "page": the JQL paged, nothing kept."""
    agent = site.account("dcoder-agent")
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _SYNC_CHILD, site.url + "/jira", agent.email, agent.api_token, mode],
        capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"sync child ({mode}) failed: {done.stderr[-1500:]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def sync_job(api: httpx.Client, site: Site) -> dict[str, Any]:
    """An instance over every project (no webhook): enable → its ``sync-history`` job done."""
    created = api.post("/v1/tenants/bench-jira/plugins", json={
        "plugin": "jira", "name": "jira-all", "secrets": {"webhook_secret": "bench-secret-0"},
        "config": {"base_url": site.url + "/jira", "use_llm": False},
    })  # fmt: skip
    created.raise_for_status()
    iid = created.json()["id"]
    base = f"/v1/tenants/bench-jira/plugins/{iid}"
    agent = site.account("dcoder-agent")
    api.put(f"{base}/auth", json={"kind": "api_token", "email": agent.email,
                                  "token": agent.api_token}).raise_for_status()  # fmt: skip
    started = time.perf_counter()
    api.post(f"{base}/enable").raise_for_status()

    def ended() -> dict[str, Any] | None:
        rows = api.get("/v1/tenants/bench-jira/jobs", params={"kind": "sync-history"}).json()
        mine = [r for r in rows if r["instance_id"] == iid and r["status"] in ("done", "failed")]
        return mine[0] if mine else None

    job = wait("the sync-history job", ended, 3600, 0.1)
    wall = time.perf_counter() - started
    if job["status"] != "done":
        raise RuntimeError(f"the sync job failed: {job['error']}")
    synced = time.perf_counter()

    def fitted() -> dict[str, Any] | None:  # its completion submits the fit of every story
        rows = api.get("/v1/tenants/bench-jira/jobs", params={"kind": "fit-model"}).json()
        mine = [r for r in rows if r["instance_id"] == iid and r["status"] in ("done", "failed")]
        return mine[0] if mine else None

    fit = wait("the fit-model job", fitted, 3600, 0.2)
    if fit["status"] != "done":
        raise RuntimeError(f"the fit job failed: {fit['error']}")
    fit_wall = time.perf_counter() - synced
    api.post(f"{base}/disable").raise_for_status()  # its schedule stays out of the rest
    return {"count": job["result"]["count"], "wall_s": wall, "run_s": _run_s(job),
            "peak_mib": job["result"]["worker_peak_mib"], "fit": fit["result"],
            "fit_wall_s": fit_wall, "fit_run_s": _run_s(fit)}  # fmt: skip


def _run_s(job: dict[str, Any]) -> float:
    """The job's own run (started → finished, the job row's times)."""
    return (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(
        job["started_at"])).total_seconds()  # fmt: skip
