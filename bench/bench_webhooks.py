"""Signed-webhook ingest through Ray Serve against a bare uvicorn + nats-py app doing the same
work, in one run on one isolated service; handler start, a backlog's drain, admission control.

Both targets verify a Standard Webhooks signature, write a delivery row into the service's
embedded PostgreSQL and publish to its embedded JetStream before answering 202. Load: wrk with
pre-signed requests (closed loop, max throughput) and an asyncio open-loop generator at fixed
arrival rates (requests built as bytes before the run, bench/support/http_sender.py; latency
from the scheduled send time, so a slow server cannot hide its queueing).
The fixed rates are fractions of the bare app's max throughput measured in the same round, so
the goals hold the service to what this machine can do, whatever the machine.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.support.cpu import cpu_seconds, spent
from bench.support.load import Result, Signed, open_loop, run_wrk, sign_many
from bench.support.serve_setup import Setup, apply, setups
from bench.support.service import Service, isolated_service
from bench.support.webhook_report import report
from bench.support.webhook_target import (
    SERVICE_ENV,
    Drained,
    Endpoint,
    bare_server,
    drain,
    endpoint,
    handler_lags,
    pending,
    processes,
    relay_held,
    settle,
    watch_drain,
)

TITLE = "Webhooks: signed ingest through Ray Serve vs bare uvicorn + nats-py, and handler start"
DURATION_S = int(os.environ.get("BENCH_WEBHOOKS_DURATION_S", "10"))
"""Seconds of every max-throughput, drain and overload run; a short value checks the code."""
FIXED_S = int(os.environ.get("BENCH_WEBHOOKS_FIXED_S", "30"))
"""Seconds of every fixed-rate run, whose p99s the goals compare. At 0.3× bare a 10 s run's
p99 was its slowest 22-60 requests, so one stall decided it: the bare app's own p99 at the same
300 req/s differed 3.8× between two rounds of one run (docs/performance.md, thirteenth pass)."""
CONNECTIONS = 16
FRACTIONS = (0.15, 0.3)
"""Fixed arrival rates as fractions of the bare app's max throughput in the same round."""
RATE = 300
"""A fixed rate in req/s as well, for continuity with earlier passes (no goal)."""
OVERLOAD = 2.0
"""The admission-control run sends at this multiple of the whole service's max throughput."""
ROUNDS = int(os.environ.get("BENCH_WEBHOOKS_ROUNDS", "2"))
WARM_UP_REQUESTS = int(os.environ.get("BENCH_WEBHOOKS_WARM_UP", "1000"))
WARM_UP_RATE = 100.0  # before round 1, not measured
MAX_REQUESTS = 40_000  # unique signed requests per max-throughput run (more than either sends)
BARE = "bare uvicorn + nats-py"
SERVE = "Ray Serve ingest"
HELD = "relay held"
SETUPS = [Setup("defaults")]
"""Serve setups compared in one run (override with $BENCH_WEBHOOKS_SETUPS, see serve_setup)."""


def rate_label(fraction: float) -> str:
    return f"{fraction:g}× bare"


@dataclass
class Target:
    """One endpoint under load and what it measured."""

    name: str
    tag: str
    base: str
    path: str
    fixed: dict[str, list[Result]] = field(default_factory=dict)
    """Open-loop runs by rate label (``0.15× bare``, ``300 req/s``), one per round."""
    peak: list[Result] = field(default_factory=list)
    drains: list[tuple[int, float]] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)
    held: list[Result] = field(default_factory=list)
    """Max-throughput runs with the event relay stopped: the ingest alone, as the baseline."""
    held_cpu: list[dict[str, float]] = field(default_factory=list)
    bursts: list[tuple[Drained, Result]] = field(default_factory=list)
    """The relay-held run's backlog draining, and the ingest at the lowest rate meanwhile."""
    overload: list[tuple[Result, int]] = field(default_factory=list)
    """Open loop past capacity: the answers, and how many 202s are durable (handled) after."""


@dataclass
class Run:
    """One setup's results."""

    setup: Setup
    bare: Target
    serve: Target
    lags: list[dict[str, np.ndarray]]
    """Accepted → handler start of the Serve fixed-rate deliveries, per round and rate label."""
    svc: Service


def _peak(
    t: Target, reqs: list[Signed], svc: Service, watch: set[int], work: Path
) -> tuple[Result, dict[str, float]]:
    """One wrk run, with the CPU time every process of the run spent meanwhile."""
    before = cpu_seconds(processes(svc, watch))
    result = run_wrk(t.base, t.path, reqs, work, CONNECTIONS, DURATION_S)
    return result, spent(before, cpu_seconds(processes(svc, watch)))


def _rates(bare_rps: float) -> dict[str, float]:
    """The round's open-loop rates: fractions of the bare app's max throughput, then RATE."""
    return {**{rate_label(f): f * bare_rps for f in FRACTIONS}, f"{RATE} req/s": float(RATE)}


def _fixed(
    n: int, rates: dict[str, float], targets: list[Target], svc: Service, ep: Endpoint
) -> dict[str, np.ndarray]:
    """Every rate on every target (each after the backlog drained); the Serve handler lags."""
    lags = {}
    for k, (label, rate) in enumerate(rates.items()):
        for t in targets:
            drain(svc, ep.tenant)  # a backlog of the relay would steal CPU from this run
            prefix = f"{t.tag}-r{k}n{n}"
            reqs = sign_many(ep.secret, prefix, max(1, round(rate * FIXED_S)))
            t.fixed.setdefault(label, []).append(open_loop(t.base + t.path, reqs, rate))
            if t.tag == "serve":
                drain(svc, ep.tenant)
                lags[label] = handler_lags(svc, ep.tenant, prefix)
            print(f"   round {n} {t.name} at {label} ({rate:.0f}/s): {t.fixed[label][-1]}",
                  flush=True)  # fmt: skip
    return lags


def _burst(n: int, serve: Target, rate: float, svc: Service, ep: Endpoint) -> None:
    """The relay-held run left a backlog: time its drain while ingest goes on at ``rate``."""
    watched, thread = watch_drain(svc, ep.tenant, f"serve-hd{n}-")
    reqs = sign_many(ep.secret, f"serve-dr{n}", max(1, round(rate * DURATION_S)))
    probe = open_loop(serve.base + serve.path, reqs, rate)
    thread.join()
    serve.bursts.append((watched, probe))
    print(f"   round {n} drain of {watched.backlog:,}: {watched.seconds:.0f} s, ingest meanwhile "
          f"{probe}", flush=True)  # fmt: skip


def _round(
    n: int, bare: Target, serve: Target, svc: Service, ep: Endpoint, work: Path, watch: set[int]
) -> dict[str, np.ndarray]:
    """Bare max throughput (the round's yardstick), fixed rates, Serve max throughputs, drain."""
    drain(svc, ep.tenant)
    result, cpu = _peak(bare, sign_many(ep.secret, f"bare-mx{n}", MAX_REQUESTS), svc, watch, work)
    bare.peak.append(result)
    bare.cpu.append(cpu)
    print(f"   round {n} {bare.name} max: {result}", flush=True)
    rates = _rates(result.rps)
    lags = _fixed(n, rates, [bare, serve], svc, ep)
    drain(svc, ep.tenant)
    result, cpu = _peak(serve, sign_many(ep.secret, f"serve-mx{n}", MAX_REQUESTS), svc, watch, work)
    serve.peak.append(result)
    serve.cpu.append(cpu)
    backlog = pending(svc, ep.tenant)
    serve.drains.append((backlog, drain(svc, ep.tenant)))
    print(f"   round {n} {serve.name} max: {result}", flush=True)
    reqs = sign_many(ep.secret, f"serve-hd{n}", MAX_REQUESTS)
    with relay_held(svc):
        result, cpu = _peak(serve, reqs, svc, watch, work)
    serve.held.append(result)
    serve.held_cpu.append(cpu)
    print(f"   round {n} {serve.name}, {HELD}: {result}", flush=True)
    _burst(n, serve, rates[rate_label(FRACTIONS[0])], svc, ep)
    drain(svc, ep.tenant)
    return lags


def _durable(svc: Service, ep: Endpoint, ids: list[str]) -> int:
    """How many of these webhook ids have a delivery the relay finished (``done``)."""
    import asyncio

    import asyncpg

    async def count() -> int:
        conn = await asyncpg.connect(svc.database_url)
        try:
            found: int = await conn.fetchval(
                "SELECT count(*) FROM deliveries WHERE tenant_id = $1 AND status = 'done'"
                " AND idempotency_key = ANY($2)", ep.tenant, [f"std:{i}" for i in ids],
            )  # fmt: skip
            return found
        finally:
            await conn.close()

    return asyncio.run(count())


def _overload(serve: Target, svc: Service, ep: Endpoint) -> None:
    """Open loop at OVERLOAD × the whole service's max throughput: admission control at work."""
    drain(svc, ep.tenant)
    rate = OVERLOAD * float(np.mean([p.rps for p in serve.peak]))
    reqs = sign_many(ep.secret, "serve-ov", max(1, round(rate * DURATION_S)))
    result = open_loop(serve.base + serve.path, reqs, rate)
    settled = settle(svc, ep.tenant)  # every published delivery settled, not only started
    if settled.ended != "settled":
        print(f"   overload: the backlog did not settle ({settled})", flush=True)
    serve.overload.append((result, _durable(svc, ep, result.accepted_ids or [])))
    print(f"   overload at {rate:.0f}/s: {result}, 503 p99 {result.shed_p99_ms:.1f} ms",
          flush=True)  # fmt: skip


def _warm_up(t: Target, svc: Service, ep: Endpoint) -> None:
    """Steady state before round 1: pools connected, the tenant and its routes loaded.

    Measured without it, round 1 also timed those one-off costs (its handler-start p99 was
    the highest of the three in every run, up to 485 ms); they are paid once per process.
    """
    reqs = sign_many(ep.secret, f"{t.tag}-warm", WARM_UP_REQUESTS)
    open_loop(t.base + t.path, reqs, WARM_UP_RATE)
    drain(svc, ep.tenant)


def _one_setup(setup: Setup, work: Path) -> Run:
    """Bare and Serve targets, ROUNDS rounds each, on one isolated service with ``setup``."""
    lags: list[dict[str, np.ndarray]] = []
    suffix = f" ({setup.label})" if len(setups(SETUPS)) > 1 else ""
    with isolated_service({**SERVICE_ENV, **setup.env}) as svc:
        apply(setup, svc)
        ep = endpoint(svc)
        with bare_server(svc, ep.secret) as (bare_base, bare_pid):
            bare = Target(BARE + suffix, "bare", bare_base, ep.path)
            serve = Target(SERVE + suffix, "serve", svc.api, ep.path)
            for target in (bare, serve):
                _warm_up(target, svc, ep)
            for n in range(1, ROUNDS + 1):
                lags.append(_round(n, bare, serve, svc, ep, work, {bare_pid}))
            _overload(serve, svc, ep)
    return Run(setup, bare, serve, lags, svc)


def run() -> str:
    """Every setup on its own isolated service, ROUNDS rounds each; Markdown tables."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk not found: `apt-get update && apt-get install -y wrk`")
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="dcbw-"))
    runs = [_one_setup(setup, work) for setup in setups(SETUPS)]
    shutil.rmtree(work, ignore_errors=True)
    return report(runs, load_before)
