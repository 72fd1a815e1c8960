"""Every error leaves the API as RFC 9457 problem+json."""

from __future__ import annotations

import httpx


def test_404_is_problem_json(serve_url: str) -> None:
    response = httpx.get(f"{serve_url}/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["type"].endswith("/not-found")
    assert body["instance"] == "/v1/nothing-here"
    assert body["title"] and body["detail"]


def test_405_is_problem_json_with_allow(serve_url: str) -> None:
    response = httpx.post(f"{serve_url}/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "method-not-allowed"
    assert "GET" in response.headers.get("allow", "")


def test_422_request_validation_is_problem_json_with_pointers(serve_url: str) -> None:
    from tests.serve_app.api_client import operator

    with operator(serve_url) as op:
        response = op.post("/v1/tenants", json={"name": 7, "extra": True})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation-failed"
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"/id", "/name", "/extra"} <= pointers


def test_near_misses_of_the_webhook_fast_path_get_the_apps_answers(serve_url: str) -> None:
    # The ingest route is served by a fast path in front of FastAPI; everything it does not
    # take must still get FastAPI's routing and problem+json answers.
    wrong_method = httpx.get(f"{serve_url}/v1/webhooks/t-x/i-y")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"
    assert "POST" in wrong_method.headers.get("allow", "")
    for path in ("/v1/webhooks/t-x", "/v1/webhooks/t-x/i-y/extra", "/v2/webhooks/t-x/i-y"):
        response = httpx.post(f"{serve_url}{path}", content=b"{}")
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path
        assert response.json()["instance"] == path


def test_401_without_a_key_names_the_bearer_scheme(serve_url: str) -> None:
    for headers in ({}, {"authorization": "Bearer not-a-key"}):
        response = httpx.get(f"{serve_url}/v1/tenants/t-x/plugins", headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == 'Bearer realm="dcoder-integrations"'
