"""Dispatch that yields to ingest: the relay paces itself on the ingress replicas' pressure.

Each ingress replica, while it takes webhooks, publishes a small pressure report on core NATS (no
JetStream, nothing stored) at most every ``REPORT_EVERY_S``: its requests in flight, its bound,
and a moving average of its ingest latency. Relays listen and bound the webhooks they dispatch at
once: halved while any replica reports pressure, grown back by a few per batch when none does
(additive increase, multiplicative decrease). CPU priority (actors/priority.py) already favours
ingest; this also keeps the relay's and tenant hosts' PostgreSQL and NATS work, which runs at the
servers' own priority, from crowding the ingest out. The backlog still drains: the bound never
goes below ``floor``.
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
    """How many webhooks a relay dispatches at once, given the replicas' latest reports."""

    ceiling: int
    floor: int = 4
    yield_ms: float = 50.0
    """Ingest latency (moving average) above which a replica is under pressure."""
    step: int = 4
    cap: int = 0
    reports: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    """Replica → (received at, latency ms, in flight, bound)."""
    paced: int = 0
    """Times the cap was halved (for the relay's stats)."""

    def __post_init__(self) -> None:
        self.cap = self.cap or self.ceiling

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

    def next_cap(self, now: float | None = None) -> int:
        """The bound for the next fetch: halved under pressure, else grown by ``step``."""
        if self.pressed(time.monotonic() if now is None else now):
            halved = max(self.floor, self.cap // 2)
            self.paced += halved < self.cap
            self.cap = halved
        else:
            self.cap = min(self.ceiling, self.cap + self.step)
        return self.cap
