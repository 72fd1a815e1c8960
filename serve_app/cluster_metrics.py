"""Cluster-wide metrics gathered at scrape time: relays' outcomes, breakers, JetStream backlog,
and what HAProxy shed before a replica saw it (serve_app/haproxy_stats.py).

Each ingress replica counts what it sees itself; what happens in relay and tenant-host actors is
collected from them when /metrics is scraped (each with a short timeout, best effort), so one
scrape shows the whole pipeline.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, Metric

from actors.handles import relay_metric_families
from actors.spawn import relay_handles
from core.bus import RELAYED_STREAMS, relay_consumer, stream_name
from core.webhooks.metrics import BREAKER_STATE_VALUES
from serve_app.haproxy_stats import door_counters
from serve_app.services import Services

log = logging.getLogger(__name__)
SCRAPE_TIMEOUT_S = 2.0


class _Merged:
    """A collector yielding the relays' metric families with samples summed across relays."""

    def __init__(self, families: list[list[Metric]]) -> None:
        merged: dict[str, Metric] = {}
        sums: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        for relay in families:
            for family in relay:
                target = merged.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                bucket = sums.setdefault(family.name, {})
                for sample in family.samples:
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    bucket[key] = bucket.get(key, 0.0) + sample.value
                del target  # filled below
        self.families = []
        for name, family in merged.items():
            for (sample_name, labels), value in sums[name].items():
                family.add_sample(sample_name, dict(labels), value)
            self.families.append(family)

    def collect(self) -> list[Metric]:
        return self.families


async def _relay_families(svc: Services) -> list[list[Metric]]:
    relays = relay_handles(svc.settings.ray.namespace, svc.settings.ray.event_relays)
    try:
        return await relay_metric_families(relays, SCRAPE_TIMEOUT_S)
    except Exception as err:  # noqa: BLE001 - best effort: a scrape must still answer
        log.warning("relay metrics unavailable: %r", err)
        return []


_LLM_FIELDS = ("calls", "prompt_tokens", "completion_tokens", "cost_usd")


class _LlmUsage:
    """The tenant hosts' LLM counters (``core.llm.LlmService``), summed over the hosts; each host's
    count starts at zero when its process does (the ledger in PostgreSQL keeps every call)."""

    def __init__(self, hosts: list[dict[str, Any]]) -> None:
        self.sums: dict[tuple[str, str, str], list[float]] = {}
        for host in hosts:
            for row in host.get("llm", []):
                key = (row["tenant"], row["model"], row["outcome"])
                acc = self.sums.setdefault(key, [0.0, 0.0, 0.0, 0.0])
                for i, name in enumerate(_LLM_FIELDS):
                    acc[i] += float(row[name])

    def collect(self) -> list[Metric]:
        calls = CounterMetricFamily("dcoder_llm_calls", "LLM completions through the gateway",
                                    labels=["tenant", "model", "outcome"])  # fmt: skip
        tokens = CounterMetricFamily("dcoder_llm_tokens", "Tokens of LLM completions",
                                     labels=["tenant", "model", "kind"])  # fmt: skip
        cost = CounterMetricFamily("dcoder_llm_cost_usd", "litellm's cost estimate of priced calls",
                                   labels=["tenant", "model"])  # fmt: skip
        per_model: dict[tuple[str, str], list[float]] = {}
        for (tenant, model, outcome), (n, prompt, completion, usd) in self.sums.items():
            calls.add_metric([tenant, model, outcome], n)
            acc = per_model.setdefault((tenant, model), [0.0, 0.0, 0.0])
            acc[0] += prompt
            acc[1] += completion
            acc[2] += usd
        for (tenant, model), (prompt, completion, usd) in per_model.items():
            tokens.add_metric([tenant, model, "prompt"], prompt)
            tokens.add_metric([tenant, model, "completion"], completion)
            cost.add_metric([tenant, model], usd)
        return [calls, tokens, cost]


async def collect(svc: Services) -> bytes:
    """Prometheus text of relay outcomes, breaker states and stream backlogs."""
    registry = CollectorRegistry()
    breaker = Gauge("dcoder_breaker_state", "Circuit breaker per endpoint: 0 closed, 1 half-open,"
                    " 2 open", ["endpoint", "host"], registry=registry)  # fmt: skip
    pending = Gauge("dcoder_queue_pending_messages", "Messages not yet delivered to a relay",
                    ["stream"], registry=registry)  # fmt: skip
    try:
        stats = await svc.hosts.stats(timeout_s=SCRAPE_TIMEOUT_S)
        registry.register(_LlmUsage(stats))
        for host in stats:
            for endpoint, snap in host.get("breakers", {}).items():
                breaker.labels(endpoint, str(host["index"])).set(
                    BREAKER_STATE_VALUES.get(snap["state"], 0)
                )
    except Exception as err:  # noqa: BLE001 - best effort
        log.warning("tenant host stats unavailable: %r", err)
    try:
        js = await svc.bus.jetstream()
        ns = svc.settings.nats.namespace
        for stream in RELAYED_STREAMS:
            info = await js.consumer_info(stream_name(ns, stream), relay_consumer(ns, stream))
            pending.labels(stream.lower()).set(info.num_pending or 0)
    except Exception as err:  # noqa: BLE001 - best effort
        log.warning("stream backlog unavailable: %r", err)
    registry.register(_Merged(await _relay_families(svc)))
    door = await door_counters()
    if door is not None:
        registry.register(door)
    return generate_latest(registry)
