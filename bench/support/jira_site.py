"""A simulated Jira site for the Jira agent's benchmark: served over HTTP, seeded, spoken to.

The simulator runs in a thread of the benchmark's process (uvicorn on a free loopback port), so
the benchmark reads its state directly (when did the agent's comment land) while the service and
the sync child reach it over HTTP like a real site.
"""

from __future__ import annotations

import contextlib
import csv
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from core.paths import PROJECT_ROOT
from simulators.app import create_app
from simulators.auth import Account, accounts
from simulators.config import SimulatorConfig
from simulators.jira.state import JiraState

DATA_DIR = PROJECT_ROOT.parent / "shared" / "datasets" / "storypoints"
STORY = (
    "As an operator I want executors to retry registration so that a slow master does not lose "
    "tasks.\n\nAcceptance criteria:\n- a failed registration is retried 3 times\n- each retry "
    "waits twice as long"
)


@dataclass
class Site:
    """The running simulator."""

    url: str
    config: SimulatorConfig
    app: FastAPI
    port: int

    @property
    def state(self) -> JiraState:
        """The Cloud site's state."""
        mounted = next(r.app for r in self.app.routes if getattr(r, "path", "") == "/jira")  # type: ignore[attr-defined]
        state: JiraState = mounted.state.jira
        return state

    def account(self, username: str) -> Account:
        """A simulated person (``alice``, ``dcoder-agent``)."""
        return next(a for a in accounts(self.config) if a.username == username)

    def http(self, username: str) -> httpx.Client:
        """A client of the Cloud site as that person (basic auth, API token)."""
        who = self.account(username)
        auth = httpx.BasicAuth(who.email, who.api_token)
        return httpx.Client(base_url=self.url + "/jira", auth=auth, timeout=30)


@contextlib.contextmanager
def running_site(port: int) -> Iterator[Site]:
    """The combined simulator on ``127.0.0.1:port`` until the block ends."""
    url = f"http://127.0.0.1:{port}"
    data_dir = Path(tempfile.mkdtemp(prefix="jira-bench-sim-"))
    config = SimulatorConfig(base_url=url, data_dir=data_dir)
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the simulator did not start within 30 s")
        time.sleep(0.05)
    try:
        yield Site(url, config, app, port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def seed(state: JiraState, limit: int, first: str = "mesos") -> dict[str, int]:
    """Resolved, estimated stories from the shared CSVs (one project each, ``first`` first) up
    to ``limit``."""
    seeded: dict[str, int] = {}
    paths = sorted(DATA_DIR.glob("*.csv"), key=lambda p: (p.stem != first, p.stem))
    for path in paths:
        left = limit - sum(seeded.values())
        if left <= 0:
            break
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))[:left]
        key = rows[0]["issuekey"].split("-")[0].upper()
        project = state.project(key) or state.add_project(key, key.title())
        for row in rows:
            fields = {"summary": row["title"], "description": row.get("description") or None,
                      state.story_points_id: float(row["storypoint"])}  # fmt: skip
            state.set_status(state.create_issue(project, fields), "10001")
        seeded[key] = len(rows)
    return seeded


def story(state: JiraState, project: str, n: int) -> str:
    """An open story to be mentioned on."""
    found = state.project(project)
    assert found is not None
    summary = f"Retry failed executor registrations ({n})"
    return state.create_issue(found, {"summary": summary, "description": STORY}).key


def agent_comments(site: Site, key: str) -> list[Any]:
    """The agent's comments on ``key`` (read from the site's state)."""
    issue = site.state.issue(key)
    agent = site.account("dcoder-agent").account_id
    return [c for c in issue.comments if c.author == agent] if issue is not None else []


def comment(site: Site, key: str, text: str) -> dict[str, Any]:
    """Alice comments (REST v2, wiki markup): the site sends its signed webhook."""
    with site.http("alice") as http:
        made = http.post(f"/rest/api/2/issue/{key}/comment", json={"body": text})
    made.raise_for_status()
    return dict(made.json())


NAMES = ("Independent", "Negotiable", "Valuable", "Estimable", "Small", "Testable")
ANSWER = {
    "summary": "Clear story; the retry limit is testable.",
    "user_value": "a slow master does not lose tasks",
    "invest": [{"name": n, "ok": True, "note": "ok"} for n in NAMES],
    "verdict": "ready", "ambiguous_words": [], "open_questions": ["Is 3 retries enough?"],
    "components": ["executor"], "risks": [{"kind": "concurrency", "note": "retry storms"}],
    "test_approach": ["unit test of the backoff"], "split": [],
}  # fmt: skip


class _Completions(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat completion that answers at once (the server's ``answer`` of the
    request, ``ANSWER`` by default)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        request = json.loads(raw or b"{}")
        getattr(self.server, "seen", []).append(request)
        getattr(self.server, "keys", []).append(self.headers.get("authorization"))
        answer = getattr(self.server, "answer", None)
        content = answer(request) if answer is not None else json.dumps(ANSWER)
        body = json.dumps({
            "id": "c1", "object": "chat.completion", "created": 0, "model": "bench",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": getattr(self.server, "usage", None) or
                     {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return


@dataclass
class Provider:
    """A running local LLM endpoint and the requests it answered."""

    url: str
    seen: list[dict[str, Any]]
    keys: list[str | None] = field(default_factory=list)  # each request's Authorization header


@contextlib.contextmanager
def running_provider(
    port: int,
    answer: Callable[[dict[str, Any]], str] | None = None,
    usage: dict[str, int] | None = None,
) -> Iterator[Provider]:
    """A local LLM endpoint (``…/v1``) answering instantly: what the gateway path costs.

    ``answer`` gives the assistant's text for a request (its JSON body); Jira's ``ANSWER`` when
    it is None (it may sleep: each request has its thread). ``usage`` is the response's token
    counts (1 and 1 by default)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Completions)
    provider = Provider(f"http://127.0.0.1:{port}/v1", [])
    server.seen = provider.seen  # type: ignore[attr-defined]
    server.keys = provider.keys  # type: ignore[attr-defined]
    server.usage = usage  # type: ignore[attr-defined]
    server.answer = answer  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()  # the port is free for the next provider at once
        thread.join(timeout=10)
