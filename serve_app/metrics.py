"""Prometheus metrics of the HTTP API: request counts and latency histograms by route and status."""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.webhooks.metrics import register_metrics

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """One registry per replica; other components register their own metrics on it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "dcoder_http_requests_total", "HTTP requests by route, method and status",
            ["route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "dcoder_http_request_duration_seconds", "HTTP request latency by route and status",
            ["route", "method", "status"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        # Admission control of the webhook ingest (serve_app/admission.py sets their values).
        self.ingest_inflight = Gauge(
            "dcoder_webhook_ingest_inflight", "Webhook requests this ingress replica works on",
            registry=self.registry,
        )  # fmt: skip
        self.ingest_inflight_limit = Gauge(
            "dcoder_webhook_ingest_inflight_limit",
            "In-flight bound of this replica's webhook ingest (503 with Retry-After past it)",
            registry=self.registry,
        )
        self.retry_spread = Gauge(
            "dcoder_webhook_retry_after_spread_seconds",
            "Spread of the Retry-After of a webhook shed under overload (503): drawn from the "
            "shortest wait to that plus this; widens while shedding lasts",
            registry=self.registry,
        )  # fmt: skip
        self.webhooks = register_metrics(self.registry)

    def render(self, extra: bytes = b"") -> Response:
        """This replica's metrics plus cluster-wide ones collected at scrape time."""
        return Response(_generate_latest(self.registry) + extra, media_type=CONTENT_TYPE_LATEST)

    def install(self, api: FastAPI) -> None:
        """Measure every request; the route label is the path template, never the raw path."""
        api.add_middleware(_MeasureRequests, metrics=self)

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        labels = (getattr(route, "path", None) or "unmatched", scope.get("method", ""), str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)


class _MeasureRequests:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware costs a task and a stream per call)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.observe(scope, status, time.perf_counter() - started)
