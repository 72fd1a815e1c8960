"""The Jira agent: mention → comment through the real service, history sync of 10k issues, the fit.

One simulated Cloud site (``bench/support/jira_site.py``) seeded with the shared story-points
CSVs (``BENCH_JIRA_SYNC`` stories, 10,000 by default) serves every part:

1. offline analysis in-process: ``build_report`` (rules, no LLM) of one story against the synced
   MESOS history and its fitted model; baseline the one REST read a mention needs (GET issue);
2. history sync of every seeded story through ``history.sync`` (REST paging, the 16 store shards)
   in a child process into the SDK's in-memory store, time and peak RSS; baseline the same JQL
   paged and thrown away;
3. the real service (``isolated_service``: ``up`` on free ports, Ray, NATS, PostgreSQL): the same
   sync as the platform runs it — an instance over every project enabled, its ``sync-history``
   job in a Ray worker writing the instance store in PostgreSQL through ``job.store`` — time
   (submit → done, and the job's own run) and the worker's peak RSS, then the ``fit-model`` job
   its completion submits, on the whole synced history (time, worker peak RSS, model size); then
   install, enable (the
   ``sync-history`` job of MESOS, then the ``fit-model`` job until the model is kept), then
   ``BENCH_JIRA_MENTIONS`` mentions one after another, from Alice's comment to the agent's comment
   on the site (goal < 3 s p95); baseline a comment without a mention, until its delivery is done;
   then a second instance (project TISTUD, ``use_llm``) the same way, the service's gateway
   (``DCODER_LLM_*``, litellm) pointed at a local OpenAI-compatible endpoint answering at once:
   the LLM path end to end through the service, every answer checked to be the LLM's.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx
import numpy as np

from bench.support.jira_site import (
    Site,
    agent_comments,
    comment,
    running_provider,
    running_site,
    seed,
    story,
)
from bench.support.jira_sync import sync_child, sync_job
from bench.support.service import Service, isolated_service, port
from bench.support.waiting import wait as _wait
from core.estimation import loads
from plugin_sdk.memory import DisabledLlm, MemoryKeyValueStore
from plugins.jira import history
from plugins.jira.client import JiraClient
from plugins.jira.config import JiraConfig
from plugins.jira.estimate import to_history
from plugins.jira.fit_job import fit_bytes
from plugins.jira.flow import Inputs, build_report
from plugins.jira.mentions import Command, Request
from plugins.jira.story import story_from_issue

TITLE = "Jira agent: mention → comment, history sync of 10k issues, model fit as a job"
SYNC = int(os.environ.get("BENCH_JIRA_SYNC", "10000"))
MENTIONS = int(os.environ.get("BENCH_JIRA_MENTIONS", "20"))
OFFLINE = int(os.environ.get("BENCH_JIRA_OFFLINE", "30"))
PROJECT = "MESOS"
LLM_PROJECT = "TISTUD"  # seeded second: its own instance, with the LLM


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(np.array(values), q) * 1e3:,.0f}" if values else "–"


async def _offline(site: Site) -> dict[str, Any]:
    agent = site.account("dcoder-agent")
    config = JiraConfig(base_url=site.url + "/jira", projects=[PROJECT], use_llm=False)
    auth = httpx.BasicAuth(agent.email, agent.api_token)
    async with httpx.AsyncClient(auth=auth, timeout=60) as http:
        client = JiraClient(http, config.base_url)
        fields = await client.discover_fields(PROJECT)
        store = MemoryKeyValueStore()
        await history.sync(client, store, fields, [PROJECT], 3600)
        past = await history.load(store)
        started = time.perf_counter()
        blob = fit_bytes(to_history(past))  # what the fit-model job does, in this process
        fit_s = time.perf_counter() - started
        model = loads(blob)
        key = story(site.state, PROJECT, 0)
        reads, reports = [], []
        for _ in range(OFFLINE):
            started = time.perf_counter()
            issue = await client.get_issue(key)
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            inputs = Inputs(
                story_from_issue(issue, fields), Request(command=Command.DEFAULT), past, model
            )
            await build_report(inputs, DisabledLlm(), config)
            reports.append(time.perf_counter() - started)
    return {"history": len(past), "fit_s": fit_s, "fit_bytes": len(blob),
            "reads": reads, "reports": reports}  # fmt: skip


def _tenant(svc: Service) -> httpx.Client:
    with svc.operator() as op:
        made = op.post("/v1/tenants", json={"id": "bench-jira", "name": "Bench"})
        made.raise_for_status()
    key = made.json()["api_key"]["key"]
    return httpx.Client(base_url=svc.api, headers={"Authorization": f"Bearer {key}"}, timeout=120)


def _install(
    svc: Service, api: httpx.Client, site: Site, project: str, use_llm: bool
) -> tuple[str, dict[str, float]]:
    """Install, authorize and enable one instance; wait for its model (health, times)."""
    created = api.post("/v1/tenants/bench-jira/plugins", json={
        "plugin": "jira", "name": f"jira-{project.lower()}",
        "secrets": {"webhook_secret": "bench-secret-1"},
        "config": {"base_url": site.url + "/jira", "projects": [project], "use_llm": use_llm,
                   "service_url": svc.api},
    })  # fmt: skip
    created.raise_for_status()
    base = f"/v1/tenants/bench-jira/plugins/{created.json()['id']}"
    agent = site.account("dcoder-agent")
    api.put(f"{base}/auth", json={"kind": "api_token", "email": agent.email,
                                  "token": agent.api_token}).raise_for_status()  # fmt: skip
    started = time.perf_counter()
    api.post(f"{base}/enable").raise_for_status()
    enabled = time.perf_counter()

    def model() -> str | None:
        detail = str(api.get(f"{base}/health").json().get("detail"))
        return detail if "model: none" not in detail and "model:" in detail else None

    detail = _wait("the fit job's model", model, 600, 0.2)
    return detail, {"enable_s": enabled - started, "fit_s": time.perf_counter() - enabled}


def _done_comments(api: httpx.Client) -> int:
    rows = api.get("/v1/tenants/bench-jira/deliveries").json()
    return sum(1 for r in rows if r["event_key"] == "comment_created" and r["status"] == "done")


def _mentions(site: Site, project: str, count: int, first_n: int) -> list[float]:
    """Mentions one after another: Alice's comment → the agent's comment on the site."""
    agent_id, took = site.account("dcoder-agent").account_id, []
    for n in range(count):
        key = story(site.state, project, first_n + n)
        started = time.perf_counter()
        comment(site, key, f"[~accountid:{agent_id}]")
        _wait("the agent's comment", lambda k=key: agent_comments(site, k), 120)
        took.append(time.perf_counter() - started)
    return took


def _check_llm(site: Site, project: str) -> None:
    answered = [c for i in site.state.issues.values() if i.project_key == project
                for c in agent_comments(site, i.key)]  # fmt: skip
    not_llm = [c.body.splitlines()[1] for c in answered if "LLM analysis" not in c.body]
    if not_llm:
        raise RuntimeError(f"the LLM instance answered without the LLM: {not_llm[:2]}")


def _service(site: Site) -> dict[str, Any]:
    env = {"DCODER_EGRESS_ALLOW": f"127.0.0.1:{site.port}"}
    with running_provider(port()) as provider:
        env |= {"DCODER_LLM_MODEL": "openai/bench", "DCODER_LLM_API_BASE": provider.url,
                "DCODER_LLM_API_KEY": "bench"}  # fmt: skip
        with isolated_service(env) as svc, _tenant(svc) as api:
            job = sync_job(api, site)
            print(f"   sync job: {job['count']:,} in {job['wall_s']:.1f}s", flush=True)
            detail, times = _install(svc, api, site, PROJECT, use_llm=False)
            plain = []
            for n in range(MENTIONS):  # baseline first: the agent's answers are deliveries too
                key, before = story(site.state, PROJECT, 1000 + n), _done_comments(api)
                started = time.perf_counter()
                comment(site, key, "no mention here, just a note")
                _wait("the plain comment's delivery", lambda b=before: _done_comments(api) > b)
                plain.append(time.perf_counter() - started)
            mentions = _mentions(site, PROJECT, MENTIONS + 1, 1)  # the first warms up
            _install(svc, api, site, LLM_PROJECT, use_llm=True)
            llm = _mentions(site, LLM_PROJECT, MENTIONS + 1, 1)
            _check_llm(site, LLM_PROJECT)
    return {"cold_s": svc.cold_s, "detail": detail, **times, "plain": plain, "job": job,
            "first": mentions[0], "mentions": mentions[1:], "llm": llm[1:]}  # fmt: skip


def run() -> str:
    """Seed the simulator, then the offline, sync and service parts; Markdown tables."""
    load_before = os.getloadavg()[0]
    with running_site(port()) as site:
        started = time.perf_counter()
        seeded = seed(site.state, SYNC)
        seed_s = time.perf_counter() - started
        print(f"   seeded {sum(seeded.values()):,} stories in {seed_s:.1f}s", flush=True)
        offline = asyncio.run(_offline(site))
        paged, synced = sync_child(site, "page"), sync_child(site, "sync")
        print(f"   synced {synced['count']:,} in {synced['seconds']:.1f}s", flush=True)
        service = _service(site) if MENTIONS > 0 else None
    return _report(seeded, offline, paged, synced, service, load_before)


def _report(
    seeded: dict[str, int], offline: dict[str, Any], paged: dict[str, Any],
    synced: dict[str, Any], service: dict[str, Any] | None, load_before: float,
) -> str:  # fmt: skip
    n, load_after = sum(seeded.values()), os.getloadavg()[0]
    out = [
        f"Simulated Cloud site seeded with {n:,} resolved, estimated stories "
        f"({', '.join(f'{k} {v:,}' for k, v in seeded.items())}). 1-min load average "
        f"{load_before:.1f} at the start, {load_after:.1f} at the end (2 CPUs, shared).",
        "",
        f"**Offline analysis** (in-process, rules, no LLM; {PROJECT} history of "
        f"{offline['history']:,} stories; the fit of all of them in-process, as the `fit-model` "
        f"job does it: {offline['fit_s']:.1f} s, model {offline['fit_bytes'] / 2**20:.1f} MiB), "
        f"{OFFLINE} runs:",
        "",
        "| step | p50 ms | p95 ms |",
        "|---|---:|---:|",
        f"| baseline: GET issue from the simulator | {_ms(offline['reads'], 50)} | "
        f"{_ms(offline['reads'], 95)} |",
        f"| `build_report` (analysis + estimate) | {_ms(offline['reports'], 50)} | "
        f"{_ms(offline['reports'], 95)} |",
        "",
        "**History sync** of every seeded story (REST pages of 100, child process):",
        "",
        "| run | stories | seconds | peak RSS MiB |",
        "|---|---:|---:|---:|",
        f"| baseline: the JQL paged, nothing kept | {paged['count']:,} | "
        f"{paged['seconds']:.1f} | {paged['peak_mib']:.0f} |",
        f"| `history.sync` into the 16 shards of the in-memory store | {synced['count']:,} | "
        f"{synced['seconds']:.1f} | {synced['peak_mib']:.0f} |",
    ]
    if service is not None:
        job = service["job"]
        out.append(
            f"| the `sync-history` job through the service (Ray worker → PostgreSQL store; "
            f"enable → done, the job's own run {job['run_s']:.1f} s; RSS: the worker process's "
            f"peak) | {job['count']:,} | {job['wall_s']:.1f} | {job['peak_mib']:.0f} |"
        )
    if service is not None:
        out += _fit_rows(service["job"])
        out += _service_rows(service)
    return "\n".join(out)


def _fit_rows(job: dict[str, Any]) -> list[str]:
    fit = job["fit"]
    return [
        "",
        "**Estimator fit as a job** on the whole synced history (the `fit-model` job the sync's "
        "completion submits: `job.store` → `core.estimation`, one process → the model in the "
        "store):",
        "",
        "| stories | sync done → fit done s | the job's run s | worker peak RSS MiB | "
        "model in the store MiB |",
        "|---:|---:|---:|---:|---:|",
        f"| {fit['stories']:,} | {job['fit_wall_s']:.1f} | {job['fit_run_s']:.1f} | "
        f"{fit['worker_peak_mib']:.0f} | {fit['bytes'] / 2**20:.1f} (base64: "
        f"{fit['bytes'] * 4 / 3 / 2**20:.1f}) |",
    ]


def _service_rows(s: dict[str, Any]) -> list[str]:
    m, p = s["mentions"], s["plain"]
    return [
        "",
        f"**Through the service** (cold `up` {s['cold_s']:.0f} s): enable (site check, webhook, "
        f"the sync job submitted) {s['enable_s']:.1f} s, then the `sync-history` and `fit-model` "
        f"jobs until the model was kept {s['fit_s']:.1f} s (health: {s['detail']}).",
        "",
        "| path | n | p50 ms | p95 ms |",
        "|---|---:|---:|---:|",
        f"| baseline: comment without mention → delivery done | {len(p)} | {_ms(p, 50)} | "
        f"{_ms(p, 95)} |",
        f"| mention → the agent's comment on the site (goal < 3 s) | {len(m)} | {_ms(m, 50)} | "
        f"{_ms(m, 95)} |",
        f"| the same with the LLM (local endpoint answering at once; {LLM_PROJECT}) | "
        f"{len(s['llm'])} | {_ms(s['llm'], 50)} | {_ms(s['llm'], 95)} |",
        "",
        f"The first mention (instance warming up) took {s['first'] * 1e3:,.0f} ms, not counted.",
    ]
