"""Several simulator accounts: a person mentions the agent, the agent answers as itself."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from simulators.auth import EXTRA_ACCOUNTS, AuthError, accounts, authenticate
from simulators.config import SimulatorConfig
from tests.simulators.conftest import SimServer

CONFIG = SimulatorConfig()
AGENT = next(a for a in accounts(CONFIG) if a.username == "dcoder-agent")
ALICE = next(a for a in accounts(CONFIG) if a.username == "alice")


def _basic(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


def test_every_account_has_its_own_token_pat_and_username() -> None:
    found = accounts(CONFIG)
    assert len(found) == 1 + len(EXTRA_ACCOUNTS)
    for field in ("account_id", "email", "username", "api_token", "pat"):
        assert len({getattr(a, field) for a in found}) == len(found), field
    for account in found:
        assert authenticate(CONFIG, _basic(account.email, account.api_token)).email == account.email
        by_pat = authenticate(CONFIG, f"Bearer {account.pat}")
        assert (by_pat.account_id, by_pat.scheme) == (account.account_id, "bearer")


def test_another_accounts_token_or_an_unknown_pat_is_refused() -> None:
    with pytest.raises(AuthError):
        authenticate(CONFIG, _basic(ALICE.email, AGENT.api_token))
    with pytest.raises(AuthError):
        authenticate(CONFIG, "Bearer not-a-pat")
    with pytest.raises(AuthError):  # PATs are Atlassian credentials, not Graph tokens
        authenticate(CONFIG, f"Bearer {AGENT.pat}", ["graph"])


def _client(sim: SimServer, email: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=sim.url + "/jira", auth=(email, token), timeout=10)


def test_myself_answers_per_account_by_token_and_pat(sim: SimServer) -> None:
    with _client(sim, AGENT.email, AGENT.api_token) as agent:
        me = agent.get("/rest/api/3/myself").json()
    assert (me["accountId"], me["emailAddress"]) == (AGENT.account_id, AGENT.email)
    pat = {"Authorization": f"Bearer {ALICE.pat}"}
    me = httpx.get(sim.url + "/jira/rest/api/2/myself", headers=pat, timeout=10).json()
    assert (me["accountId"], me["displayName"]) == (ALICE.account_id, ALICE.display_name)
    wrong = httpx.get(sim.url + "/jira/rest/api/2/myself", auth=(ALICE.email, "x"), timeout=10)
    assert wrong.status_code == 401


@pytest.fixture
def hook_receiver() -> Iterator[tuple[str, list[dict[str, object]]]]:
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


def _comments(got: list[dict[str, object]], count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [p for p in got if p.get("webhookEvent") == "comment_created"]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} comment_created deliveries, got {got!r}")


def test_person_mentions_agent_and_agent_answers_as_itself(
    sim: SimServer, hook_receiver: tuple[str, list[dict[str, object]]]
) -> None:
    url, got = hook_receiver
    key = "A" + uuid.uuid4().hex[:5].upper()
    sim.mounted("/jira").state.jira.add_project(key, "Accounts")
    hook = {"name": "t", "url": url, "events": ["comment_created"]}
    hook["filters"] = {"issue-related-events-section": f"project = {key}"}  # type: ignore[assignment]
    with _client(sim, ALICE.email, ALICE.api_token) as alice:
        assert alice.post("/rest/webhooks/1.0/webhook", json=hook).status_code == 201
        created = alice.post(
            "/rest/api/2/issue",
            json={
                "fields": {
                    "project": {"key": key},
                    "summary": "Export",
                    "issuetype": {"id": "10001"},
                }
            },
        ).json()
        alice.post(
            f"/rest/api/2/issue/{created['key']}/comment",
            json={"body": f"[~accountid:{AGENT.account_id}] estimate"},
        )
        reporter = alice.get(f"/rest/api/2/issue/{created['key']}").json()["fields"]["reporter"]
    assert reporter["accountId"] == ALICE.account_id
    with _client(sim, AGENT.email, AGENT.api_token) as agent:
        adf = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "3 points"}]}]}  # fmt: skip
        agent.post(f"/rest/api/3/issue/{created['key']}/comment", json={"body": adf})
        listed = agent.get(f"/rest/api/3/issue/{created['key']}/comment").json()["comments"]
    assert [c["author"]["accountId"] for c in listed] == [ALICE.account_id, AGENT.account_id]
    first, second = _comments(got, 2)[:2]
    assert first["comment"]["author"]["accountId"] == ALICE.account_id  # type: ignore[index]
    assert f"[~accountid:{AGENT.account_id}]" in first["comment"]["body"]  # type: ignore[index]
    assert second["comment"]["author"]["accountId"] == AGENT.account_id  # type: ignore[index]
    assert second["comment"]["body"] == "3 points"  # type: ignore[index]
