"""Liveness, readiness and metrics through Ray Serve, against real NATS, PostgreSQL and Ray."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import TestServices


def test_healthz(serve_url: str) -> None:
    response = httpx.get(f"{serve_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_all_components_ok(serve_url: str) -> None:
    response = httpx.get(f"{serve_url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["components"] == {"nats": "ok", "postgres": "ok", "ray": "ok"}


def _readyz(serve_url: str) -> httpx.Response:
    return httpx.get(f"{serve_url}/readyz", timeout=10)


def _wait_for(serve_url: str, status: int, timeout_s: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    response = _readyz(serve_url)
    while response.status_code != status and time.monotonic() < deadline:
        time.sleep(0.2)
        response = _readyz(serve_url)
    return response


def test_readyz_503_while_nats_is_down(serve_url: str, test_services: TestServices) -> None:
    nats = test_services.embedded_nats
    if nats is None:
        pytest.skip(
            "NATS is external (DCODER_NATS_URL): the suite never stops a server it did not start"
        )
    assert _wait_for(serve_url, 200).status_code == 200
    nats.stop()  # type: ignore[attr-defined]
    try:
        down = _wait_for(serve_url, 503)
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/json")
        components = down.json()["components"]
        assert components["nats"].startswith("unavailable")
        assert components["postgres"] == "ok"
        assert components["ray"] == "ok"
    finally:
        nats.start()  # type: ignore[attr-defined]
    back = _wait_for(serve_url, 200)
    assert back.status_code == 200, back.text


def test_metrics_count_requests_by_route_and_status(serve_url: str) -> None:
    httpx.get(f"{serve_url}/healthz")
    httpx.get(f"{serve_url}/no/such/route")
    text = httpx.get(f"{serve_url}/metrics").text
    assert 'dcoder_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "dcoder_http_request_duration_seconds_bucket" in text


def test_openapi_and_docs(serve_url: str) -> None:
    spec = httpx.get(f"{serve_url}/openapi.json").json()
    assert spec["info"]["title"] == "dcoder-integrations"
    assert "/readyz" in spec["paths"]
    assert httpx.get(f"{serve_url}/docs").status_code == 200
