"""Soak: ten minutes of signed webhooks at 0.3 × the bare app's capacity, a burst to twice that
in the middle; nothing accepted lost, no duplicate effect, the tail recovers, memory stays flat.

The rate is a fraction of the bare uvicorn + nats-py app's max throughput measured at the start
of the same run (bench_webhooks.py explains the baseline), so the soak asks the same of a slow
machine as of a fast one. The sender retries a 5xx or a timeout (after ``Retry-After`` or 1 s),
as real senders do.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import asyncpg
import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from bench.support.load import open_loop, run_wrk, sign_many
from bench.support.rss import RssSamples, sampling
from bench.support.service import Service, isolated_service
from bench.support.soak_load import MAX_ATTEMPTS, Phase, Sent, send, windows
from bench.support.webhook_target import (
    SERVICE_ENV,
    SETTLE_STALL_S,
    SETTLE_TIMEOUT_S,
    Endpoint,
    Settled,
    bare_server,
    drain,
    endpoint,
    processes,
    settle,
)

TITLE = "Soak: webhooks at 0.3 × bare capacity for 10 minutes, a 2 × burst in the middle"
SOAK_S = float(os.environ.get("BENCH_SOAK_S", "600"))
BURST_S = float(os.environ.get("BENCH_SOAK_BURST_S", "60"))
FRACTION = 0.3
BURST = 2.0
"""The burst's rate as a multiple of the soak's rate."""
CALIBRATE_S = int(os.environ.get("BENCH_WEBHOOKS_DURATION_S", "10"))
WARM_UP_REQUESTS = int(os.environ.get("BENCH_WEBHOOKS_WARM_UP", "1000"))
RECOVERY_GOAL_S = 30.0
NORMAL_MULTIPLE = 2.0
"""A window's p99 is back to normal within this multiple of the p99 before the burst."""
NORMAL_REFUSED = 0.01
"""... and at most this share of its first tries refused (503) or unanswered: a service that
answers every request at once with 503 has a low p99 too, and has not recovered."""
SETTLED_AFTER_BURST_S = 60.0
"""Memory growth counts from this long after the burst to the end (warm-up and the burst's
backlog behind it)."""
FLAT_MIB = 16.0
"""Most a process's private memory (USS) may grow from then to the end of the run."""
WINDOW_S = 30.0
"""The recovery rule's windows: a 30 s window's p99 is its slowest ~150 first tries at 0.3 ×.
With 5 s windows (the slowest ~26) one latency cluster of normal operation made a window's p99
on its own, and the rule called 7 of the 42 calm windows before the burst not normal (soak of
2026-12-07 20:33 UTC); that reading is still shown, without a goal."""
SHORT_WINDOW_S = 5.0
WARM_S = 60.0
"""The first minute is warm-up: it is not part of normal operation."""
TABLE_WINDOW_S = 30.0
PREFIX = "soak"
DUPLICATE_WINDOW_S = 120
SOAK_ENV = {**SERVICE_ENV, "DCODER_NATS_DUPLICATE_WINDOW_S": str(DUPLICATE_WINDOW_S)}
"""NATS keeps every message id of its de-duplication window in memory (about 100 bytes each per
stream): with the shipped 2 h window its memory grows by design for 2 h (docs/webhooks.md), which
a 10-minute soak cannot tell from a leak. With 2 minutes the window is full before the memory
is measured, so growth after it is not the window. Repeats after the window are still caught by
the deliveries table (and checked here: zero duplicate effects)."""


def _capacity(svc: Service, ep: Endpoint, work: Path) -> float:
    """The bare app's max throughput now, on this machine (wrk, 16 connections)."""
    with bare_server(svc, ep.secret) as (base, _):
        reqs = sign_many(ep.secret, "bare-cal", 40_000)
        return run_wrk(base, ep.path, reqs, work, 16, CALIBRATE_S).rps


async def _effects(svc: Service, ep: Endpoint) -> tuple[int, int, int]:
    """Deliveries done, of those started more than once, and handler runs that succeeded."""
    conn = await asyncpg.connect(svc.database_url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'done') AS done,"
            " count(*) FILTER (WHERE attempts > 1) AS again FROM deliveries WHERE tenant_id = $1",
            ep.tenant,
        )
    finally:
        await conn.close()
    # The relays count every handler run that succeeded: more runs than deliveries done would
    # be a delivery handled twice (the isolated service has this one tenant and plugin).
    async with httpx.AsyncClient(timeout=30.0) as client:
        text = (await client.get(f"{svc.api}/metrics")).text
    runs = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "dcoder_relay_webhook_deliveries_total"
        and sample.labels.get("outcome") == "done"
    )
    return int(row["done"]), int(row["again"]), int(runs)


async def _done_of(svc: Service, ep: Endpoint, ids: list[str]) -> int:
    conn = await asyncpg.connect(svc.database_url)
    try:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE tenant_id = $1 AND status = 'done'"
            " AND idempotency_key = ANY($2)", ep.tenant, [f"std:{i}" for i in ids],
        )  # fmt: skip
        return found
    finally:
        await conn.close()


async def _not_done(svc: Service, ep: Endpoint, ids: list[str]) -> list[str]:
    """The accepted deliveries that are not done, by status, attempts and last error."""
    conn = await asyncpg.connect(svc.database_url)
    try:
        rows = await conn.fetch(
            "SELECT status, attempts, left(coalesce(last_error, ''), 100) AS error, count(*) AS n"
            " FROM deliveries WHERE tenant_id = $1 AND status <> 'done'"
            " AND idempotency_key = ANY($2) GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 10",
            ep.tenant, [f"std:{i}" for i in ids],
        )  # fmt: skip
    finally:
        await conn.close()
    return [f"{r['n']:,} {r['status']} (attempts {r['attempts']}{', ' if r['error'] else ''}"
            f"{r['error']})" for r in rows]  # fmt: skip


def _p99(sent: Sent, start: float, end: float) -> float:
    """First-try p99 (ms) of the requests scheduled from ``start`` to ``end``."""
    lat = sent.first_latency[(sent.due >= start) & (sent.due < end)]
    return float(np.percentile(lat, 99) * 1e3) if len(lat) else float("nan")


def _not_normal(n: int, ok: int, p99: float, normal: float) -> bool:
    """A window's first-try p99 over NORMAL_MULTIPLE × ``normal``, or more than NORMAL_REFUSED of
    its first tries not accepted."""
    return p99 > NORMAL_MULTIPLE * normal or n - ok > NORMAL_REFUSED * n


def _recovery(
    sent: Sent, burst_end: float, width_s: float, normal_from: float
) -> tuple[float, float, tuple[int, int]]:
    """The rule with windows of ``width_s``: p99 of normal operation (ms, first tries scheduled
    from ``normal_from`` to the burst); seconds after the burst until every later window is back
    to normal (end of the last window that is not); and, as a control, the same rule applied to
    the calm minutes before the burst: of the windows from the end of the first minute (warm-up)
    to the burst, how many it calls not normal. A rule that calls calm windows not normal
    measures the noise of normal operation, not the recovery."""
    rows = [(start, n, ok, p99) for start, n, ok, _, _, p99 in windows(sent, width_s) if n]
    burst_start = burst_end - BURST_S
    normal = _p99(sent, normal_from, burst_start)
    late = [start + width_s for start, n, ok, p99 in rows
            if start >= burst_end and _not_normal(n, ok, p99, normal)]  # fmt: skip
    calm = [_not_normal(n, ok, p99, normal) for start, n, ok, p99 in rows
            if WARM_S <= start and start + width_s <= burst_start]  # fmt: skip
    recovered = (max(late) - burst_end) if late else 0.0
    return normal, recovered, (sum(calm), len(calm))


def _window_table(sent: Sent) -> str:
    lines = ["| from s | sent | 202 (first try) | 503 (first try) | p50 ms | p99 ms |",
             "|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for start, n, ok, shed, p50, p99 in windows(sent, TABLE_WINDOW_S):
        lines.append(f"| {start:.0f} | {n:,} | {ok:,} | {shed:,} | {p50:.1f} | {p99:.1f} |")
    return "\n".join(lines)


def _rss_table(rss: RssSamples) -> str:
    lines = [
        "| component | processes | PSS MiB at start | at end | most | RSS MiB at start | at end |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    pss, rss_sums = rss.by_component("pss"), rss.by_component("rss")
    for name, (count, first, last, most) in sorted(pss.items()):
        _, rss_first, rss_last, _ = rss_sums[name]
        lines.append(f"| {name} | {count} | {first:.0f} | {last:.0f} | {most:.0f} "
                     f"| {rss_first:.0f} | {rss_last:.0f} |")  # fmt: skip
    return "\n".join(lines)


def _goals(sent: Sent, lost: int, effects: tuple[int, int, int], rss: RssSamples) -> str:
    done, again, runs = effects
    burst_end = (SOAK_S + BURST_S) / 2
    normal, recovered, control = _recovery(sent, burst_end, WINDOW_S, WARM_S)
    short = _recovery(sent, burst_end, SHORT_WINDOW_S, burst_end - BURST_S - 60.0)
    pid, name, grown = rss.growth(since=burst_end + SETTLED_AFTER_BURST_S, measure="uss")
    rss_pid, rss_name, rss_grown = rss.growth(measure="rss")
    gave_up = int((~np.isin(sent.final_status, (200, 202))).sum())
    rows = [
        ("zero accepted deliveries lost (every 202 handled)", f"{lost} lost", lost == 0),
        ("(no goal) first tries answered 503 / not answered within 5 s",
         f"{int((sent.first_status == 503).sum()):,} / {int((sent.first_status == -1).sum()):,}",
         None),
        ("zero duplicate effects (one successful handler run per delivery done, none started "
         "twice)", f"{done:,} done, {runs:,} handler runs, {again} started again",
         runs == done and again == 0),
        (f"back to normal within {RECOVERY_GOAL_S:.0f} s after the burst: every later "
         f"{WINDOW_S:.0f} s window's first-try p99 within {NORMAL_MULTIPLE:g} × that of normal "
         f"operation (from {WARM_S:.0f} s to the burst: {normal:.1f} ms) and at most "
         f"{NORMAL_REFUSED:.0%} of its first tries refused or unanswered",
         f"{recovered:.0f} s", recovered <= RECOVERY_GOAL_S),
        (f"(no goal) control: the same rule applied to the calm {WINDOW_S:.0f} s windows before "
         "the burst (not normal / all)", "{} / {}".format(*control), None),
        (f"(no goal) the rule with {SHORT_WINDOW_S:.0f} s windows against the minute before the "
         f"burst ({short[0]:.1f} ms), and its control", f"{short[1]:.0f} s; control "
         "{} / {}".format(*short[2]), None),
        ("(no goal) requests never accepted after "
         f"{MAX_ATTEMPTS} tries", f"{gave_up:,}", None),
        (f"memory flat: no process's private memory (USS) grows more than {FLAT_MIB:.0f} MiB from "
         f"{SETTLED_AFTER_BURST_S:.0f} s after the burst to the end (largest growth)",
         f"{grown:.1f} MiB ({name or '-'}, pid {pid})", grown <= FLAT_MIB),
        ("(no goal) largest RSS growth of one process over the whole run (RSS counts the shared "
         "pages it touched: PostgreSQL's shared buffers, for instance)",
         f"{rss_grown:.0f} MiB ({rss_name}, pid {rss_pid})", None),
    ]  # fmt: skip
    lines = ["| goal | measured | met |", "|---|---|---|"]
    for goal, shown, ok in rows:
        lines.append(f"| {goal} | {shown} | {'–' if ok is None else 'yes' if ok else 'no'} |")
    return "\n".join(lines)


def _soak(svc: Service, ep: Endpoint, rate: float) -> tuple[Sent, RssSamples, Settled]:
    calm = (SOAK_S - BURST_S) / 2
    phases = [Phase(calm, rate), Phase(BURST_S, BURST * rate), Phase(calm, rate)]
    with sampling(lambda: processes(svc, set())) as rss:
        sent = send(svc.api + ep.path, ep.secret, PREFIX, phases)
        # every published delivery settled (not only started), or why the wait stopped
        settled = settle(svc, ep.tenant)
    return sent, rss, settled


def _listed(not_done: list[str]) -> str:
    return f" Accepted and not done: {'; '.join(not_done)}." if not_done else ""


def run() -> str:
    """Calibrate, warm up, soak, drain, check; Markdown tables."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk not found: `apt-get update && apt-get install -y wrk`")
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="dcbs-"))
    with isolated_service(SOAK_ENV) as svc:
        ep = endpoint(svc)
        capacity = _capacity(svc, ep, work)
        rate = FRACTION * capacity
        print(f"   bare capacity {capacity:.0f} req/s: soak at {rate:.0f}/s", flush=True)
        open_loop(svc.api + ep.path, sign_many(ep.secret, "warm", WARM_UP_REQUESTS), 100.0)
        drain(svc, ep.tenant)
        sent, rss, settled = _soak(svc, ep, rate)
        accepted = sent.ids(PREFIX, 202, 200)  # 200: a retry of one accepted before
        lost = len(accepted) - asyncio.run(_done_of(svc, ep, accepted))
        not_done = asyncio.run(_not_done(svc, ep, accepted)) if lost else []
        effects = asyncio.run(_effects(svc, ep))
    shutil.rmtree(work, ignore_errors=True)
    left = f" Still running after `down` (stopped): {', '.join(svc.left_running)}." if (
        svc.left_running) else ""  # fmt: skip
    return f"""\
One isolated `dcoder-integrations up` (as bench_webhooks.py, per-tenant rate limit lifted,
admission control as shipped; NATS's de-duplication window {DUPLICATE_WINDOW_S} s instead of
2 h, so that the ids it holds stop growing before memory is measured: with 2 h they grow for
2 h by design, docs/webhooks.md). The bare app's max throughput, measured first in this run:
**{capacity:,.0f} req/s**. Then an open-loop sender (requests signed as they are sent, each with
a unique `webhook-id`; a 5xx or a timeout retried after `Retry-After` or 1 s, up to
{MAX_ATTEMPTS} tries; a 200 to a retry means accepted before) at
{FRACTION:g} × that, **{rate:.0f} req/s**, for {SOAK_S:.0f} s, with {BURST_S:.0f} s at {BURST:g} ×
({BURST * rate:.0f} req/s) in the middle; then the relay's backlog drains. Latency is the first
try's, from its scheduled send time. Every accepted webhook is looked up in `deliveries`
afterwards, and the relays' count of successful handler runs read from `/metrics`.
Memory of every process of the run sampled every 10 s (RSS, PSS and USS). 1-min load
average {load_before:.1f} at the start; sender
CPU {sent.generator_cpu:.0%} of one core, {sent.generator_cpu_ms:.3f} ms per request sent (HTTP/1.1
over keep-alive connections with asyncio protocols, `bench/support/http_sender.py`).{left}

After the sender's last answer the run waited {settled.seconds:.0f} s for the relay's backlog
to settle ({settled.ended}; bounds: {SETTLE_STALL_S:.0f} s without progress,
{SETTLE_TIMEOUT_S:.0f} s in all); left: {settled.unacked:,} messages unacknowledged in JetStream,
{settled.open_rows:,} deliveries processing or retrying.{_listed(not_done)}

Goals:

{_goals(sent, lost, effects, rss)}

Per {TABLE_WINDOW_S:.0f} s of the schedule:

{_window_table(sent)}

Memory summed per component at each sample: PSS (shared pages divided among the processes
sharing them) and RSS (shared pages counted in every process that touched them, so PostgreSQL's
backends each count the shared buffers they read):

{_rss_table(rss)}
"""
