"""Fault injection on the combined app, and signed outbound Jira/Confluence webhooks."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jira
import pytest

from core.signing import verify_hub_signature
from tests.simulators.conftest import SimServer

Received = list[tuple[dict[str, str], bytes]]


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    """An HTTP endpoint on a free port that records every POST."""
    got: Received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()


def _wait(got: Received, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_rate_limit_server_error_expired_token_and_drop(sim: SimServer) -> None:
    with sim.client() as http:
        prefix = "/jira/rest/api/2/serverInfo"
        assert (
            http.post(
                "/_sim/faults",
                json={"path_prefix": prefix, "kind": "rate_limit", "retry_after_s": 7},
            ).status_code
            == 201
        )
        limited = http.get(prefix)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
        assert http.get(prefix).status_code == 200  # count=1: used up
        http.post("/_sim/faults", json={"path_prefix": prefix, "kind": "server_error", "count": 2})
        assert [http.get(prefix).status_code for _ in range(3)] == [503, 503, 200]
        http.post("/_sim/faults", json={"path_prefix": "/jira", "kind": "expired_token"})
        assert http.get(prefix).status_code == 401
        http.post("/_sim/faults", json={"path_prefix": prefix, "kind": "drop"})
        with pytest.raises(httpx.TransportError):
            http.get(prefix)
        http.post(
            "/_sim/faults", json={"path_prefix": prefix, "kind": "latency", "latency_ms": 300}
        )
        started = time.monotonic()
        assert http.get(prefix).status_code == 200 and time.monotonic() - started >= 0.3
        http.post("/_sim/faults", json={"path_prefix": prefix, "kind": "rate_limit", "count": None})
        assert http.delete("/_sim/faults").status_code == 204
        assert http.get(prefix).status_code == 200 and http.get("/_sim/faults").json() == []


def test_jira_comment_webhook_is_signed_and_real_shaped(
    sim: SimServer, receiver: tuple[str, Received]
) -> None:
    url, got = receiver
    key = "W" + uuid.uuid4().hex[:5].upper()
    sim.mounted("/jira").state.jira.add_project(key, "Webhooks")
    with sim.client() as http:
        http.post(
            "/jira/rest/webhooks/1.0/webhook",
            json={
                "name": "t",
                "url": url,
                "events": ["comment_created"],
                "secret": "s3cret",
                "filters": {"issue-related-events-section": f"project = {key}"},
            },
        )
    client = jira.JIRA(
        server=sim.url + "/jira", basic_auth=(sim.config.user_email, sim.config.api_token)
    )
    issue = client.create_issue(project=key, summary="hooked", issuetype={"name": "Story"})
    me = client.myself()["accountId"]
    client.add_comment(issue.key, f"hello [~accountid:{me}]")
    _wait(got, 1)
    headers, body = got[0]
    assert verify_hub_signature(["s3cret"], body, headers["x-hub-signature"])
    assert headers["x-atlassian-webhook-identifier"]
    payload = httpx.Response(200, content=body).json()
    assert payload["webhookEvent"] == "comment_created" and payload["issue"]["key"] == issue.key
    assert f"[~accountid:{me}]" in payload["comment"]["body"]


def test_confluence_page_updated_webhook(sim: SimServer, receiver: tuple[str, Received]) -> None:
    url, got = receiver
    with sim.client() as http:
        hook = http.post(
            "/wiki/rest/webhooks/1.0/webhook",
            json={"name": "p", "url": url, "events": ["page_updated"], "secret": "k"},
        )
        assert hook.status_code == 201
        storage = {"storage": {"value": "<p>1</p>", "representation": "storage"}}
        page = http.post(
            "/wiki/rest/api/content",
            json={
                "type": "page",
                "title": "hook " + uuid.uuid4().hex[:6],
                "space": {"key": "DEMO"},
                "body": storage,
            },
        ).json()
        http.put(
            f"/wiki/rest/api/content/{page['id']}",
            json={
                "type": "page",
                "title": page["title"],
                "version": {"number": 2},
                "body": storage,
            },
        )
        http.delete(f"/wiki/rest/webhooks/1.0/webhook/{hook.json()['id']}")
    _wait(got, 1)
    headers, body = got[0]
    assert verify_hub_signature(["k"], body, headers["x-hub-signature"])
    payload = httpx.Response(200, content=body).json()
    assert payload["page"]["id"] == int(page["id"]) and payload["page"]["version"] == 2
    assert payload["updateTrigger"] == "edit_page"
