"""The Markdown report of bench_webhooks.py: method, tables and goals (ratios within a round)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import yaml

from bench.support.load import CLIENT_TIMEOUT_S, WINDOW_S, Result
from bench.support.webhook_target import RAY_WORKER_NICENESS
from serve_app.launcher.deploy import SERVE_CONFIG, capped_max_replicas

if TYPE_CHECKING:
    from bench.bench_webhooks import Run, Target

P99_MULTIPLE = 3.0
"""Goal: the service's p99 at a fixed rate within this multiple of the bare app's at that rate."""
HANDLER_START_P99_MS = 500.0
HELD_RATIO = 0.5


def _ms(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q) * 1e3) if len(values) else float("nan")


def _worst(r: Result) -> str:
    return f"{max(r.window_p99_ms):.1f}" if r.window_p99_ms else "–"


def _peak_table(targets: list[Target], held: str, connections: int) -> str:
    lines = [
        f"| setup | round | max req/s ({connections} conn.) | p50 ms | p99 ms | non-202 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t in targets:
        runs = [(t.name, t.peak)] + ([(f"{t.name}, {held}", t.held)] if t.held else [])
        for name, results in runs:
            for n, r in enumerate(results, 1):
                lines.append(f"| {name} | {n} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
                             f"| {r.other} |")  # fmt: skip
    return "\n".join(lines)


def _fixed_table(run: Run) -> str:
    bare, serve = run.bare, run.serve
    lines = [
        "| rate | round | req/s sent | bare p50 ms | bare p99 ms | bare non-202 | Serve p50 ms "
        "| Serve p99 ms | Serve p99 ÷ bare p99 | Serve 503 | Serve no answer "
        f"| worst {WINDOW_S} s window's p99 ms (bare / Serve) "
        "| handler start p99 ms | sender send lag p99 ms (bare / Serve) "
        "| sender CPU ms per request (bare / Serve) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, results in serve.fixed.items():
        for n, (b, s) in enumerate(zip(bare.fixed[label], results, strict=True), 1):
            lag = run.lags[n - 1].get(label, np.array([]))
            lines.append(
                f"| {label} | {n} | {s.rate:.0f} | {b.p50_ms:.1f} | {b.p99_ms:.1f} | {b.other} "
                f"| {s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.p99_ms / b.p99_ms:.1f}× | {s.shed} "
                f"| {s.lost} | {_worst(b)} / {_worst(s)} | {_ms(lag, 99):.0f} "
                f"| {b.send_lag_p99_ms:.1f} / "
                f"{s.send_lag_p99_ms:.1f} | {b.generator_cpu_ms:.3f} / {s.generator_cpu_ms:.3f} |"
            )
    return "\n".join(lines)


def _burst_table(run: Run, low: str) -> str:
    lines = [
        f"| round | backlog after the relay-held run | drained in s | left | ingest at {low} "
        "meanwhile: p50 ms | p99 ms | non-202 | p99 at that rate without a backlog ms "
        "| bare p99 at that rate ms |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, (drained, probe) in enumerate(run.serve.bursts, 1):
        quiet, bare = run.serve.fixed[low][n - 1].p99_ms, run.bare.fixed[low][n - 1].p99_ms
        lines.append(
            f"| {n} | {drained.backlog:,} | {drained.seconds:.0f} | "
            f"{drained.left} | {probe.p50_ms:.1f} | {probe.p99_ms:.1f} "
            f"| {probe.other} | {quiet:.1f} | {bare:.1f} |"
        )
    return "\n".join(lines)


def _overload_table(serve: Target) -> str:
    lines = [
        "| req/s sent | 202 | durable (handled) of those | 503 | no answer | p50 ms (all) "
        "| p99 ms (all) | p99 ms of the 503s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r, durable in serve.overload:
        lines.append(f"| {r.rate:.0f} | {r.accepted:,} | {durable:,} | {r.shed:,} | {r.lost:,} "
                     f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.shed_p99_ms:.1f} |")  # fmt: skip
    return "\n".join(lines)


def _cpu_table(targets: list[Target], held: str) -> str:
    columns = []
    for t in targets:
        columns.append((t.name, t.cpu, sum(p.accepted for p in t.peak)))
        if t.held:
            columns.append((f"{t.name}, {held}", t.held_cpu, sum(p.accepted for p in t.held)))
    names = sorted({name for _, cpu, _ in columns for c in cpu for name in c})
    per = {
        label: {n: sum(c.get(n, 0.0) for c in cpu) * 1e3 / max(accepted, 1) for n in names}
        for label, cpu, accepted in columns
    }  # fmt: skip
    lines = [
        "| component | " + " | ".join(f"{label}: CPU ms per 202" for label, _, _ in columns)
        + " |",
        "|---|" + "---:|" * len(columns),
    ]  # fmt: skip
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{per[label][name]:.2f}"
                                                 for label, _, _ in columns) + " |")  # fmt: skip
    lines.append("| **total** | " + " | ".join(
        f"**{sum(per[label].values()):.2f}**" for label, _, _ in columns) + " |")  # fmt: skip
    return "\n".join(lines)


Row = tuple[str, list[float], Callable[[float], bool], str]


def _goal_rows(run: Run, fractions: tuple[float, ...], held: str) -> list[Row]:
    from bench.bench_webhooks import CONNECTIONS as connections
    from bench.bench_webhooks import rate_label
    from bench.support.webhook_target import DRAIN_TIMEOUT_S

    bare, serve = run.bare, run.serve
    rows: list[Row] = [(
        f"Serve max throughput ≥ {HELD_RATIO} × bare (same work: {held})",
        [s.rps / b.rps for s, b in zip(serve.held, bare.peak, strict=True)],
        lambda v: v >= HELD_RATIO, "{:.2f}×",
    )]  # fmt: skip
    for f in fractions:
        label = rate_label(f)
        pairs = list(zip(serve.fixed[label], bare.fixed[label], strict=True))
        starts = [_ms(lags.get(label, np.array([])), 99) for lags in run.lags]
        rows += [
            (f"at {label}: Serve p99 ≤ {P99_MULTIPLE:g} × bare p99 at that rate",
             [s.p99_ms / b.p99_ms for s, b in pairs], lambda v: v <= P99_MULTIPLE, "{:.1f}×"),
            (f"at {label}: accepted → handler start p99 < {HANDLER_START_P99_MS:.0f} ms", starts,
             lambda v: v < HANDLER_START_P99_MS, "{:.0f} ms"),
            (f"at {label}: no request lost (every one 202)", [float(s.other) for s, _ in pairs],
             lambda v: v == 0, "{:.0f} non-202"),
        ]  # fmt: skip
    low = rate_label(fractions[0])
    rows += [
        (f"draining a backlog: ingest p99 at {low} ≤ {P99_MULTIPLE:g} × bare p99 at that rate",
         [p.p99_ms / b.p99_ms for (_, p), b in zip(serve.bursts, bare.fixed[low], strict=True)],
         lambda v: v <= P99_MULTIPLE, "{:.1f}×"),
        (f"the backlog drains within {DRAIN_TIMEOUT_S:.0f} s (left: at most the {connections} "
         "requests wrk cut off before their publish)",
         [d.seconds if d.left <= connections else float("inf") for d, _ in serve.bursts],
         lambda v: v < DRAIN_TIMEOUT_S, "{:.0f} s"),
        ("past capacity: every 202 durable (handled)",
         [float(r.accepted - durable) for r, durable in serve.overload], lambda v: v == 0,
         "{:.0f} missing"),
    ]  # fmt: skip
    return rows


def _goals(run: Run, fractions: tuple[float, ...], held: str) -> str:
    import bench.bench_webhooks as bw

    lines = ["| goal | per round | met |", "|---|---|---|"]
    for goal, values, ok, fmt in _goal_rows(run, fractions, held):
        met = sum(bool(ok(v)) for v in values)
        shown = ", ".join(fmt.format(v) for v in values)
        lines.append(f"| {goal} | {shown} | {'yes' if met == len(values) else 'no'} "
                     f"({met} of {len(values)}) |")  # fmt: skip
    fixed = run.bare.fixed.get(f"{bw.RATE} req/s", [])
    if len(fixed) > 1:  # the same rate in every round: the bare app against itself
        p99s = [r.p99_ms for r in fixed]
        lines.append(
            f"| (no goal) control: the bare app against itself at {bw.RATE} req/s, the same "
            f"rate in every round: highest p99 ÷ lowest | {max(p99s) / min(p99s):.1f}× "
            f"({', '.join(f'{v:.1f}' for v in p99s)} ms) | – |"
        )
    whole = ", ".join(f"{s.rps / b.rps:.2f}×"
                      for s, b in zip(run.serve.peak, run.bare.peak, strict=True))  # fmt: skip
    lines.append(f"| (no goal) whole service: max throughput with the relay dispatching on the "
                 f"same CPUs meanwhile, × bare | {whole} | – |")  # fmt: skip
    return "\n".join(lines)


def _replicas() -> str:
    """The Ingress replica range configs/serve.yaml ships and what `up` allows on this machine
    (for the text of the report)."""
    config = yaml.safe_load(SERVE_CONFIG.read_text())
    ingress = next(d for d in config["applications"][0]["deployments"] if d["name"] == "Ingress")
    scaling = ingress.get("autoscaling_config") or {}
    low, high = scaling.get("min_replicas", 1), scaling.get("max_replicas", 1)
    shipped = f"{low} replica" if low == high == 1 else f"{low} to {high} replicas"
    cpus = os.cpu_count() or 1
    cap = capped_max_replicas(scaling, cpus)
    return f"{shipped}, at most {cap} on this {cpus}-CPU machine (`up`: one per two CPUs)"


def _per_setup(runs: list[Run], part: Callable[[Run], str]) -> str:
    return "\n\n".join((f"{r.setup.label}:\n\n" if len(runs) > 1 else "") + part(r) for r in runs)


def report(runs: list[Run], load_before: float) -> str:
    """The benchmark's section of bench/README.md."""
    import bench.bench_webhooks as bw
    from bench.support.webhook_target import DRAIN_TIMEOUT_S

    left = "; ".join(f"{r.setup.label}: {', '.join(r.svc.left_running)}" for r in runs
                     if r.svc.left_running)  # fmt: skip
    left = f" Still running after `down` (stopped): {left}." if left else ""
    targets = [t for r in runs for t in (r.bare, r.serve)]
    setups_text = ""
    if len(runs) > 1:
        table = "\n".join(["| setup | what differs from the shipped defaults |", "|---|---|"] + [
            f"| {r.setup.label} | {r.setup.describe()} |" for r in runs])  # fmt: skip
        setups_text = f"Setups, each on its own cold `up` in this run:\n\n{table}\n\n"
    low = bw.rate_label(bw.FRACTIONS[0])
    fractions = " and ".join(f"{f:g}×" for f in bw.FRACTIONS)
    return f"""\
{setups_text}One isolated `dcoder-integrations up` per setup (embedded PostgreSQL and NATS,
local Ray head, `configs/serve.yaml`: Ingress {_replicas()}), per-tenant rate limit
lifted, admission control as shipped. One tenant with an enabled `generic-webhook` instance;
both targets serve the same `POST /v1/webhooks/{{tenant}}/{{instance}}`, verify the same Standard
Webhooks signature, write a delivery row (same `INSERT … ON CONFLICT`; the baseline into its own
copy of the table) and publish the same envelope to JetStream with a message id (the baseline to
its own stream) before answering 202. The baseline (`bench/support/bare_ingest.py`) is one
uvicorn worker with the profile in memory, at the niceness of the service's replicas
({RAY_WORKER_NICENESS}, Ray's workers as `up` starts them); the service adds
HAProxy, the Serve replica, the tenant actor's profile (cached 2 s per replica), rate limiter,
admission control and metrics — and, except in the "{bw.HELD}" runs, its relay and tenant
actor process every accepted delivery on the same CPUs while the load runs.

Each round first measures the bare app's max throughput (`wrk -t2 -c{bw.CONNECTIONS}
-d{bw.DURATION_S}s`, pre-signed requests, each with a unique `webhook-id`): **the round's
yardstick**. Both targets then get open-loop runs (requests built as bytes beforehand, sent
over keep-alive connections with asyncio protocols on uvloop, `bench/support/http_sender.py`,
about 0.1 CPU ms per request; fixed arrival schedule, latency from the scheduled send time, a
request without an answer after {CLIENT_TIMEOUT_S:.0f} s given up) of {bw.FIXED_S} s at
{fractions} that throughput and at a fixed {bw.RATE} req/s
(continuity with earlier passes, no goal), each after the relay's backlog drained; the goals
compare the service with the bare app at the same rate in the same round, so they hold on a
slow machine as on a fast one. The runs last {bw.FIXED_S} s so that their p99 is that of
steady operation, not whether one stall fell into them (a 10 s run's p99 is its slowest 20-60
requests); the worst {WINDOW_S} s window of each is shown too, and the goals table compares the
bare app with itself at {bw.RATE} req/s as a control. Then the service's max throughput
twice: as it runs (relay and tenant host dispatching meanwhile) and with the event relay
stopped (SIGSTOP, "{bw.HELD}": the baseline's work, what it accepts waits durably in
JetStream). Releasing the relay after that run is the burst: the backlog it left is timed until
it drains (at most {DRAIN_TIMEOUT_S:.0f} s) while the ingest goes on at {low} for
{bw.DURATION_S} s. Last, one open-loop run of {bw.DURATION_S} s at {bw.OVERLOAD:g}× the
service's own max throughput shows admission control: 503s with `Retry-After` instead of
queueing, and every 202 checked to be a delivery the relay handled. Before round 1 each target gets
{bw.WARM_UP_REQUESTS:,} deliveries at {bw.WARM_UP_RATE:.0f} req/s, not measured. Handler start =
`started_at − received_at` of the fixed-rate deliveries. The machine may be shared (1-min load
average {load_before:.1f} on {_cpus()} CPUs at the start); {bw.ROUNDS} rounds are shown.{left}

Max throughput:

{_peak_table(targets, bw.HELD, bw.CONNECTIONS)}

Fixed arrival rates (the fractions are of the same round's bare max throughput):

{_per_setup(runs, _fixed_table)}

A backlog draining while the ingest goes on (dispatch must not starve ingest):

{_per_setup(runs, lambda r: _burst_table(r, low))}

Past capacity (admission control, `DCODER_WEBHOOKS_MAX_INFLIGHT` per replica):

{_per_setup(runs, lambda r: _overload_table(r.serve))}

CPU time per accepted request during the max-throughput runs, by component (every process of
the run, summed over {bw.ROUNDS} rounds):

{_cpu_table(targets, bw.HELD)}

Goals:

{_per_setup(runs, lambda r: _goals(r, bw.FRACTIONS, bw.HELD))}
"""


def _cpus() -> int:
    import os

    return os.cpu_count() or 0
