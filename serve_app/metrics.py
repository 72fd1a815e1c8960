"""Prometheus metrics of the HTTP API: request counts and latency histograms by route and status."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate_latest

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

        self.webhooks = register_metrics(self.registry)

    def render(self, extra: bytes = b"") -> Response:
        """This replica's metrics plus cluster-wide ones collected at scrape time."""
        return Response(_generate_latest(self.registry) + extra, media_type=CONTENT_TYPE_LATEST)

    def install(self, api: FastAPI) -> None:
        """Measure every request; the route label is the path template, never the raw path."""

        @api.middleware("http")
        async def _measure(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            started = time.perf_counter()
            status = 500
            try:
                response = await call_next(request)
                status = response.status_code
                return response
            finally:
                route = request.scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                labels = (template, request.method, str(status))
                self.requests.labels(*labels).inc()
                self.latency.labels(*labels).observe(time.perf_counter() - started)
