"""The Jira Data Center flavour (/jira-dc): REST v2 only, users by name, PATs, [~username]."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jira
import pytest

from simulators.auth import accounts
from tests.simulators.conftest import SimServer


def _pat_client(sim: SimServer, username: str) -> httpx.Client:
    account = next(a for a in accounts(sim.config) if a.username == username)
    headers = {"Authorization": f"Bearer {account.pat}"}
    return httpx.Client(base_url=sim.url + "/jira-dc", headers=headers, timeout=10)


def test_server_info_and_myself_speak_data_center(sim: SimServer) -> None:
    with _pat_client(sim, "dcoder-agent") as agent:
        info = agent.get("/rest/api/2/serverInfo").json()
        me = agent.get("/rest/api/2/myself").json()
        assert agent.get("/rest/api/3/myself").status_code == 404
        assert agent.post("/rest/api/2/search/jql", json={"jql": ""}).status_code == 404
        by_name = agent.get("/rest/api/2/user", params={"username": "alice"}).json()
        found = agent.get("/rest/api/2/user/search", params={"username": "ali"}).json()
    assert info["deploymentType"] == "Server" and info["versionNumbers"][0] == 9
    assert (me["name"], me["key"], me["displayName"]) == (
        "dcoder-agent",
        "dcoder-agent",
        "dcoder Agent",
    )
    assert "accountId" not in me and me["emailAddress"] == "agent@example.com"
    assert by_name["name"] == "alice" and [u["name"] for u in found] == ["alice"]


def test_official_sdk_with_a_personal_access_token(sim: SimServer) -> None:
    account = next(a for a in accounts(sim.config) if a.username == "alice")
    client = jira.JIRA(server=sim.url + "/jira-dc", token_auth=account.pat)
    assert client.myself()["name"] == "alice"
    assert client.server_info()["deploymentType"] == "Server"


@pytest.fixture
def hooks() -> Iterator[tuple[str, list[dict[str, object]]]]:
    """An HTTP endpoint on a free port that records every JSON body POSTed to it."""
    got: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()


def test_username_mention_and_comment_authors_in_webhooks(
    sim: SimServer, hooks: tuple[str, list[dict[str, object]]]
) -> None:
    url, got = hooks
    key = "D" + uuid.uuid4().hex[:5].upper()
    sim.mounted("/jira-dc").state.jira.add_project(key, "Data Center")
    hook = {"name": "dc", "url": url, "events": ["comment_created"], "secret": "s"}
    with _pat_client(sim, "alice") as alice:
        assert alice.post("/rest/webhooks/1.0/webhook", json=hook).status_code == 201
        fields = {"project": {"key": key}, "summary": "Export", "issuetype": {"name": "Story"}}
        issue = alice.post("/rest/api/2/issue", json={"fields": fields}).json()
        alice.post(
            f"/rest/api/2/issue/{issue['key']}/comment", json={"body": "[~dcoder-agent] estimate"}
        )
        reporter = alice.get(f"/rest/api/2/issue/{issue['key']}").json()["fields"]["reporter"]
    assert reporter["name"] == "alice" and "accountId" not in reporter
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        p.get("webhookEvent") == "comment_created" for p in got
    ):
        time.sleep(0.05)
    [payload] = [p for p in got if p.get("webhookEvent") == "comment_created"]
    comment = payload["comment"]
    assert isinstance(comment, dict)
    assert comment["author"]["name"] == "alice" and comment["body"] == "[~dcoder-agent] estimate"
    assert sim.mounted("/jira").state.jira.issue(issue["key"]) is None  # two sites, apart
