"""Pipeline metrics: names and labels as exported, outcome counters, breaker gauge wiring."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from core.resilience import BreakerConfig, BreakerRegistry
from core.webhooks.metrics import Outcome, register_metrics


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_outcomes_are_counted_with_retries_and_dead_letters() -> None:
    registry = CollectorRegistry()
    metrics = register_metrics(registry)
    outcomes: list[Outcome] = ["accepted", "duplicate", "retrying", "retrying", "dead"]
    for outcome in outcomes:
        metrics.record_outcome("jira", outcome)
    name = "dcoder_webhook_deliveries_total"
    assert _value(registry, name, plugin="jira", outcome="retrying") == 2
    assert _value(registry, name, plugin="jira", outcome="duplicate") == 1
    assert _value(registry, "dcoder_webhook_retries_total", plugin="jira") == 2
    assert _value(registry, "dcoder_webhook_dead_letters_total", plugin="jira") == 1
    with pytest.raises(ValueError, match="unknown outcome"):
        metrics.record_outcome("jira", "exploded")  # type: ignore[arg-type]


def test_histograms_and_exposition_names() -> None:
    registry = CollectorRegistry()
    metrics = register_metrics(registry)
    metrics.ingest_latency.labels(plugin="bitbucket").observe(0.004)
    metrics.queue_lag.labels(plugin="bitbucket").observe(2.0)
    text = generate_latest(registry).decode()
    for line in (
        "# TYPE dcoder_webhook_deliveries_total counter",
        "# TYPE dcoder_webhook_ingest_latency_seconds histogram",
        "# TYPE dcoder_webhook_queue_lag_seconds histogram",
        "# TYPE dcoder_webhook_retries_total counter",
        "# TYPE dcoder_webhook_dead_letters_total counter",
        "# TYPE dcoder_breaker_state gauge",
    ):
        assert line in text
    assert (
        _value(
            registry, "dcoder_webhook_ingest_latency_seconds_bucket", plugin="bitbucket", le="0.005"
        )
        == 1
    )
    assert _value(registry, "dcoder_webhook_queue_lag_seconds_sum", plugin="bitbucket") == 2.0


def test_registration_is_per_registry() -> None:
    registry = CollectorRegistry()
    register_metrics(registry)
    register_metrics(CollectorRegistry())  # another registry is independent
    register_metrics(registry, namespace="other")
    with pytest.raises(ValueError, match="Duplicated"):
        register_metrics(registry)


async def test_breaker_state_gauge_follows_the_breakers() -> None:
    registry = CollectorRegistry()
    metrics = register_metrics(registry)
    now = [0.0]
    breakers = BreakerRegistry(
        BreakerConfig(failure_threshold=1, cooldown_s=5),
        clock=lambda: now[0],
        on_change=metrics.observe_breaker,
    )
    breaker = breakers.get("https://acme.atlassian.net")

    async def fail() -> None:
        raise httpx.ConnectError("refused")

    async def ok() -> None:
        return None

    with pytest.raises(httpx.ConnectError):
        await breaker.call(fail)
    gauge = "dcoder_breaker_state"
    assert _value(registry, gauge, endpoint="https://acme.atlassian.net") == 2
    now[0] = 5.0
    assert breaker.state == "half_open"
    assert _value(registry, gauge, endpoint="https://acme.atlassian.net") == 1
    await breaker.call(ok)
    assert _value(registry, gauge, endpoint="https://acme.atlassian.net") == 0
