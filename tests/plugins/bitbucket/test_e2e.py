"""The Bitbucket review through the real service (Ray, NATS, PostgreSQL, the sandbox) and the
simulator over HTTP: a tenant installs the agent as a user would, the simulator's repository
webhook delivers Alice's pull request, the job fetches it over git HTTP with the instance's
credential, and the test polls the pull request (with deadlines) for what the agent wrote.

The simulator listens on a copy of the port the session reserved for simulators (the only
loopback port ``DCODER_EGRESS_ALLOW`` lets plugins reach); the OAuth tests use the same port
with their own copy.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from simulators.app import create_app
from simulators.config import SimulatorConfig
from tests.conftest import TestServices
from tests.plugins.bitbucket.conftest import SimServer
from tests.plugins.bitbucket.repos import account
from tests.serve_app.api_client import TenantClient, new_tenant

BASE = {
    "app.py": "import os\n\n\ndef main():\n    pass\n",
    ".dcoder/review.yaml": "severity_threshold: low\nmax_comments: 10\n",
}
# two findings: a command injection (line 7, high) and eval (line 11)
V1 = (
    "import os\nimport subprocess\n\n\ndef main():\n    x = 1\n"
    '    subprocess.run(os.environ["CMD"], shell=True)\n\n\ndef load(data):\n'
    "    return eval(data)\n"
)
# the injection fixed, eval kept, a second eval added (line 15)
V2 = (
    "import os\nimport subprocess\n\n\ndef main():\n    x = 1\n"
    '    subprocess.run(["ls"], check=False)\n\n\ndef load(data):\n'
    "    return eval(data)\n\n\ndef parse(text):\n    return eval(text.strip())\n"
)
WAIT_S = 240.0


@pytest.fixture(scope="module")
def esim(
    test_services: TestServices, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimServer]:
    assert test_services.sim_socket is not None
    sock = test_services.sim_socket.dup()  # closing ours leaves the session's port open
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = SimulatorConfig(base_url=url, data_dir=tmp_path_factory.mktemp("bb-e2e"))
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    _wait("the simulator", lambda: server.started, 15)
    yield SimServer(url, config, app)
    server.should_exit = True
    thread.join(timeout=10)


def _wait(what: str, probe: Callable[[], Any], timeout_s: float = WAIT_S,
          show: Callable[[], Any] = str) -> Any:  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}: {show()}")


def _git(cwd: Path, *args: str, header: str | None = None) -> str:
    extra = ["-c", f"http.extraHeader={header}"] if header else []
    ident = ["-c", "user.name=Alice", "-c", "user.email=alice@example.com"]
    done = subprocess.run(["git", *ident, *extra, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class Pr:
    """Alice's repository and pull request, and the agent installed for a tenant."""

    sim: SimServer
    tenant: TenantClient
    iid: str
    ws: str
    slug: str
    pr_id: int
    work: Path

    @property
    def api(self) -> str:
        return f"{self.sim.url}/bitbucket/2.0/repositories/{self.ws}/{self.slug}"

    def alice(self) -> httpx.Client:
        me = account(self.sim, "alice")
        return httpx.Client(auth=(me.email, me.api_token), timeout=30)

    def comments(self) -> list[dict[str, Any]]:
        """The agent's comments on the pull request."""
        with self.alice() as http:
            page = http.get(f"{self.api}/pullrequests/{self.pr_id}/comments?pagelen=100")
        assert page.status_code == 200, page.text
        agent = account(self.sim, "dcoder-agent")
        return [c for c in page.json()["values"] if c["user"]["nickname"] == agent.username]

    def head(self) -> str:
        with self.alice() as http:
            return str(
                http.get(f"{self.api}/pullrequests/{self.pr_id}").json()["source"]["commit"]["hash"]
            )

    def report(self, commit: str) -> dict[str, Any] | None:
        with self.alice() as http:
            got = http.get(f"{self.api}/commit/{commit}/reports/dcoder-review")
        return got.json() if got.status_code == 200 else None

    def state(self) -> str:
        jobs = self.tenant.http.get(f"/v1/tenants/{self.tenant.id}/jobs").json()
        deliveries = self.tenant.http.get(f"/v1/tenants/{self.tenant.id}/deliveries").json()
        return f"jobs {[(j['status'], j.get('error')) for j in jobs]}; deliveries " + str(
            [(d["event_key"], d["status"], d.get("last_error")) for d in deliveries]
        )

    def push(self, text: str) -> None:
        (self.work / "app.py").write_text(text)
        _git(self.work, "commit", "-qam", "SHOP-12 second push")
        _git(self.work, "push", "-q", "origin", "feature/SHOP-12-run", header=_basic(self.sim))


def _basic(sim: SimServer) -> str:
    me = account(sim, "alice")
    return (
        "Authorization: Basic " + base64.b64encode(f"{me.email}:{me.api_token}".encode()).decode()
    )


def _open_pr(serve_url: str, sim: SimServer, tmp: Path) -> Pr:
    """A tenant with the agent installed; Alice's repository, its webhook, then her PR."""
    tenant = new_tenant(serve_url, "bb")
    state = sim.mounted("/bitbucket").state.bitbucket
    ws, slug = "acme", "svc-" + uuid.uuid4().hex[:8]
    bare = state.create_repo(ws, slug).git.path
    work = Path(tempfile.mkdtemp(dir=tmp))
    _git(work, "init", "-q", "-b", "main")
    for name, text in BASE.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "Initial commit")
    _git(work, "checkout", "-qb", "feature/SHOP-12-run")
    (work / "app.py").write_text(V1)
    _git(work, "commit", "-qam", "OPS-7 run the configured command")
    _git(work, "push", "-q", str(bare), "main", "feature/SHOP-12-run")
    _git(work, "remote", "add", "origin", f"{sim.url}/bitbucket/{ws}/{slug}.git")
    secret = secrets.token_urlsafe(24)
    created = tenant.http.post(f"/v1/tenants/{tenant.id}/plugins", json={
        "plugin": "bitbucket", "name": f"bb-{secrets.token_hex(3)}",
        "config": {"deployment": "cloud", "base_url": f"{sim.url}/bitbucket",
                   "repositories": [f"{ws}/{slug}"]},
        "secrets": {"webhook_secret": secret},
    })  # fmt: skip
    assert created.status_code == 201, created.text
    iid = created.json()["id"]
    base = f"/v1/tenants/{tenant.id}/plugins/{iid}"
    agent = account(sim, "dcoder-agent")
    auth = {"kind": "api_token", "email": agent.email, "token": agent.api_token}
    assert tenant.http.put(f"{base}/auth", json=auth).status_code == 200
    enabled = tenant.http.post(f"{base}/enable")
    assert enabled.status_code == 200, enabled.text
    pr = Pr(sim, tenant, iid, ws, slug, 0, work)
    with pr.alice() as http:
        hook = http.post(f"{pr.api}/hooks", json={
            "url": f"{serve_url}/v1/webhooks/{tenant.id}/{iid}", "secret": secret,
            "events": ["pullrequest:created", "pullrequest:updated",
                       "pullrequest:comment_created"],
        })  # fmt: skip
        assert hook.status_code == 201, hook.text
        made = http.post(f"{pr.api}/pullrequests", json={
            "title": "SHOP-12 Run the configured command",
            "source": {"branch": {"name": "feature/SHOP-12-run"}},
            "destination": {"branch": {"name": "main"}},
        })  # fmt: skip
    assert made.status_code == 201, made.text
    pr.pr_id = made.json()["id"]
    return pr


def _summaries(pr: Pr) -> list[dict[str, Any]]:
    return [c for c in pr.comments() if "edited on every push" in c["content"]["raw"]]


def _inline(pr: Pr) -> list[dict[str, Any]]:
    return [c for c in pr.comments() if c.get("inline")]


def _reviewed(pr: Pr, head: str) -> list[dict[str, Any]] | None:
    found = _summaries(pr)
    return found if found and head[:12] in found[0]["content"]["raw"] else None


def test_cloud_pull_request_reviewed_then_a_push_posts_one_and_resolves_one(
    serve_url: str, esim: SimServer, tmp_path: Path
) -> None:
    pr = _open_pr(serve_url, esim, tmp_path)
    head = pr.head()
    _wait("the review's summary", lambda: _reviewed(pr, head), show=pr.state)
    inline = _inline(pr)
    lines = sorted((c["inline"]["path"], c["inline"]["to"]) for c in inline)
    assert lines == [("app.py", 7), ("app.py", 11)], [c["content"]["raw"][:60] for c in inline]
    [summary] = _summaries(pr)
    assert (
        "FAIL" in summary["content"]["raw"] and "static analysis only" in summary["content"]["raw"]
    )
    report = pr.report(head)
    assert report is not None and report["result"] == "FAILED", report
    # a push fixing the injection and adding a second eval
    pr.push(V2)
    second = _wait("a new head", lambda: (h := pr.head()) != head and h)
    _wait("the second review", lambda: _reviewed(pr, second), show=pr.state)
    after = _inline(pr)
    assert len(after) == 3, [c["content"]["raw"][:60] for c in after]  # one new, none twice
    by_line = {c["inline"]["to"]: c for c in after}
    assert 15 in by_line and by_line[7].get("resolution"), by_line[7]
    assert not by_line[11].get("resolution")
    [edited] = _summaries(pr)
    assert edited["id"] == summary["id"] and "1 fixed by this push" in edited["content"]["raw"]
    assert pr.report(second) is not None
    # the tenant sees its jobs; another tenant sees neither jobs nor the instance
    other = new_tenant(serve_url, "bbo")
    assert other.http.get(f"/v1/tenants/{other.id}/jobs").json() == []
    assert other.http.get(f"/v1/tenants/{pr.tenant.id}/jobs").status_code in (403, 404)
    assert other.http.get(f"/v1/tenants/{other.id}/plugins/{pr.iid}").status_code == 404
