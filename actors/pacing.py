"""Dispatch that yields to ingest: the relay paces itself on the ingress replicas' pressure.

Each ingress replica, while it takes webhooks, publishes a small pressure report on core NATS (no
JetStream, nothing stored) at most every ``REPORT_EVERY_S``: its requests in flight, its bound,
and a moving average of its ingest latency. Relays listen and, while any replica reports
pressure, wait before each fetch: ``least_pause_s`` at first, doubled on every fetch the pressure
lasts, up to ``most_pause_s``; with no pressure, no wait. The batches stay full: a webhook batch
costs a few statements and one tenant-host call whatever its size, so dispatch that yields by
fetching less often frees the CPU for ingest, where smaller batches (issue #19: the cap halved
down to 4 webhooks) cost more per webhook and hardly slowed dispatch at all (during a burst past
the ingest's capacity, the relay still dispatched as fast as the ingest accepted). CPU priority
(actors/priority.py) already favours ingest; this also keeps the relay's and tenant hosts'
PostgreSQL and NATS work, which runs at the servers' own priority, from crowding the ingest out.
The backlog waits, durable, in JetStream, and still drains: a relay fetches a full batch at least
every ``most_pause_s``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

REPORT_EVERY_S = 0.25
FRESH_S = 1.0
"""A report older than this is ignored (a replica that stopped reporting is idle or gone)."""
LATENCY_ALPHA = 0.2


def pressure_subject(namespace: str) -> str:
    """Core NATS subject of the ingress replicas' pressure reports (not a JetStream stream)."""
    return f"{namespace}.ingest.pressure"


@dataclass
class PressureReport:
    """What a replica measures of its own ingest, folded as requests finish."""

    replica: str
    latency_ms: float = 0.0
    last_sent: float = 0.0

    def observe(self, seconds: float) -> None:
        """Fold one finished request's latency into the moving average."""
        self.latency_ms += LATENCY_ALPHA * (seconds * 1e3 - self.latency_ms)

    def due(self, now: float) -> bool:
        """True at most once per REPORT_EVERY_S (the caller then publishes ``payload``)."""
        if now - self.last_sent < REPORT_EVERY_S:
            return False
        self.last_sent = now
        return True

    def payload(self, inflight: int, limit: int) -> bytes:
        return json.dumps({"replica": self.replica, "inflight": inflight, "limit": limit,
                           "latency_ms": round(self.latency_ms, 2)}).encode()  # fmt: skip


@dataclass
class Pacer:
    """How long a relay waits before its next fetch, given the replicas' latest reports."""

    yield_ms: float = 50.0
    """Ingest latency (moving average) above which a replica is under pressure."""
    least_pause_s: float = 0.05
    most_pause_s: float = 1.0
    pause_s: float = 0.0
    reports: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    """Replica → (received at, latency ms, in flight, bound)."""
    paced: int = 0
    """Fetches delayed under pressure (for the relay's stats)."""

    def heard(self, data: bytes, now: float | None = None) -> None:
        """Take one replica's report (malformed ones are ignored)."""
        try:
            report = json.loads(data)
            latency, inflight, limit = (
                float(report[k]) for k in ("latency_ms", "inflight", "limit")
            )  # fmt: skip
            replica = str(report["replica"])
        except (ValueError, KeyError, TypeError):
            return
        self.reports[replica] = (time.monotonic() if now is None else now, latency, inflight, limit)

    def pressed(self, now: float) -> bool:
        """Whether any replica reported pressure within FRESH_S."""
        return any(
            now - at <= FRESH_S and (latency > self.yield_ms or (limit and inflight >= limit / 2))
            for at, latency, inflight, limit in self.reports.values()
        )

    def next_pause(self, now: float | None = None) -> float:
        """Seconds to wait before the next fetch: doubled while pressure lasts, none without."""
        if self.pressed(time.monotonic() if now is None else now):
            self.pause_s = min(self.most_pause_s, max(self.least_pause_s, self.pause_s * 2))
            self.paced += 1
        else:
            self.pause_s = 0.0
        return self.pause_s
