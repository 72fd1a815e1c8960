"""Prometheus metrics of the webhook and event pipeline, registered on a given registry.

Names (with the default namespace ``dcoder``): ``dcoder_webhook_deliveries_total{plugin,outcome}``,
``dcoder_webhook_ingest_latency_seconds{plugin}``, ``dcoder_webhook_queue_lag_seconds{plugin}``,
``dcoder_webhook_retries_total{plugin}``, ``dcoder_webhook_dead_letters_total{plugin}``,
``dcoder_breaker_state{endpoint}`` (0 closed, 1 half-open, 2 open). A request shed by the
ingress's admission control counts as outcome ``shed`` (its gauges: serve_app/metrics.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

Outcome = Literal[
    "accepted",  # verified, recorded and queued
    "duplicate",  # a repeated delivery, acknowledged and dropped
    "rejected",  # signature, timestamp or token did not verify
    "rate_limited",  # 429
    "too_large",  # 413
    "shed",  # 503: the replica's in-flight bound was reached (admission control)
    "done",  # handled
    "retrying",  # failed, redelivery scheduled
    "dead",  # dead-lettered
]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
BREAKER_STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}
_INGEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)


@dataclass(frozen=True)
class WebhookMetrics:
    """The pipeline's metric objects; ``record_*`` helpers keep label names in one place."""

    deliveries: Counter
    ingest_latency: Histogram
    queue_lag: Histogram
    retries: Counter
    dead_letters: Counter
    breaker_state: Gauge

    def record_outcome(self, plugin: str, outcome: Outcome) -> None:
        """Count one delivery outcome; ``retrying`` and ``dead`` also bump their own counters."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        self.deliveries.labels(plugin=plugin, outcome=outcome).inc()
        if outcome == "retrying":
            self.retries.labels(plugin=plugin).inc()
        elif outcome == "dead":
            self.dead_letters.labels(plugin=plugin).inc()

    def observe_breaker(self, endpoint: str, state: str) -> None:
        """Set an endpoint's breaker gauge; pass as ``BreakerRegistry(on_change=...)``."""
        self.breaker_state.labels(endpoint=endpoint).set(BREAKER_STATE_VALUES[state])


def register_metrics(registry: CollectorRegistry, namespace: str = "dcoder") -> WebhookMetrics:
    """Create the pipeline's metrics on ``registry`` (once per registry: names are unique)."""
    return WebhookMetrics(
        deliveries=Counter(
            "webhook_deliveries", "Webhook deliveries and events by plugin and outcome",
            ["plugin", "outcome"], namespace=namespace, registry=registry,
        ),
        ingest_latency=Histogram(
            "webhook_ingest_latency_seconds", "Receipt to acknowledged (verify, record, publish)",
            ["plugin"], namespace=namespace, registry=registry, buckets=_INGEST_BUCKETS,
        ),
        queue_lag=Histogram(
            "webhook_queue_lag_seconds", "Receipt (or scheduled redelivery) to handler start",
            ["plugin"], namespace=namespace, registry=registry, buckets=_LAG_BUCKETS,
        ),
        retries=Counter(
            "webhook_retries", "Failed attempts scheduled for redelivery",
            ["plugin"], namespace=namespace, registry=registry,
        ),
        dead_letters=Counter(
            "webhook_dead_letters", "Deliveries and events moved to the dead-letter stream",
            ["plugin"], namespace=namespace, registry=registry,
        ),
        breaker_state=Gauge(
            "breaker_state", "Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open",
            ["endpoint"], namespace=namespace, registry=registry,
        ),
    )  # fmt: skip
