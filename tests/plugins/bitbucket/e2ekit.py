"""The Bitbucket agent's end-to-end kit: Alice's repository and pull request in the simulator
(Cloud or Data Center), the agent installed for a tenant through the API, and probes of what it
wrote. Shared by test_e2e.py, test_e2e_hostile.py and tests/plugins/test_e2e_review_to_jira.py.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import subprocess
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from plugins.bitbucket.client import BitbucketClient, PostedComment, client_for
from plugins.bitbucket.errors import BitbucketNotFound
from plugins.bitbucket.events import RepoRef
from simulators.webhooks_out import delivery_headers
from tests.fixtures import polling
from tests.plugins.bitbucket.conftest import SimServer
from tests.plugins.bitbucket.repos import Link, account
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
BRANCH = "feature/SHOP-12-run"
TITLE = "SHOP-12 Run the configured command"
T = TypeVar("T")


def wait(what: str, probe: Callable[[], Any], timeout_s: float = WAIT_S,
         show: Callable[[], Any] = str) -> Any:  # fmt: skip
    return polling.wait(what, probe, timeout_s, show, every_s=0.5)


def git(cwd: Path, *args: str, header: str | None = None) -> str:
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
    flavour: str
    repo: RepoRef
    work: Path
    pr_id: int = 0

    @property
    def mount(self) -> str:
        return (
            f"{self.sim.url}/bitbucket"
            if self.flavour == "cloud"
            else f"{self.sim.url}/bitbucket-dc"
        )

    def _read(self, call: Callable[[BitbucketClient], Awaitable[T]]) -> T:
        """Read the pull request as Alice through the agent's own REST client."""
        me = account(self.sim, "alice")

        async def run() -> T:
            auth = httpx.BasicAuth(me.email, me.api_token) if self.flavour == "cloud" else None
            headers = {} if auth else {"Authorization": f"Bearer {me.pat}"}
            async with httpx.AsyncClient(auth=auth, headers=headers, timeout=30) as http:
                return await call(client_for(self.flavour, http, self.mount))  # type: ignore[arg-type]

        return asyncio.run(run())

    def comments(self) -> list[PostedComment]:
        """The agent's comments on the pull request."""
        agent = account(self.sim, "dcoder-agent")
        found = self._read(lambda c: c.comments(self.repo, self.pr_id))
        return [c for c in found if c.author.name == agent.username]

    def head(self) -> str:
        return self._read(lambda c: c.pull_request(self.repo, self.pr_id)).head

    def url(self) -> str | None:
        """The pull request's page, as the API links it."""
        return self._read(lambda c: c.pull_request(self.repo, self.pr_id)).url

    def report(self, commit: str) -> dict[str, object] | None:
        try:
            return self._read(lambda c: c.get_report(self.repo, commit, "dcoder-review"))
        except BitbucketNotFound:
            return None

    def state(self) -> str:
        jobs = self.tenant.http.get(f"/v1/tenants/{self.tenant.id}/jobs").json()
        deliveries = self.tenant.http.get(f"/v1/tenants/{self.tenant.id}/deliveries").json()
        return f"jobs {[(j['status'], j.get('error')) for j in jobs]}; deliveries " + str(
            [(d["event_key"], d["status"], d.get("last_error")) for d in deliveries]
        )

    def jobs(self) -> int:
        return len(self.tenant.http.get(f"/v1/tenants/{self.tenant.id}/jobs").json())

    def settled(self) -> bool:
        rows = self.tenant.http.get(f"/v1/tenants/{self.tenant.id}/deliveries").json()
        return all(r["status"] in ("done", "dead") for r in rows)

    def push(self, text: str) -> None:
        (self.work / "app.py").write_text(text)
        git(self.work, "commit", "-qam", "SHOP-12 second push")
        git(self.work, "push", "-q", "origin", BRANCH, header=alice_header(self.sim, self.flavour))

    def alice_http(self) -> httpx.Client:
        me = account(self.sim, "alice")
        if self.flavour == "cloud":
            return httpx.Client(auth=(me.email, me.api_token), timeout=30)
        return httpx.Client(headers={"Authorization": f"Bearer {me.pat}"}, timeout=30)


def alice_header(sim: SimServer, flavour: str) -> str:
    me = account(sim, "alice")
    if flavour == "dc":
        return f"Authorization: Bearer {me.pat}"
    return (
        "Authorization: Basic " + base64.b64encode(f"{me.email}:{me.api_token}".encode()).decode()
    )


def repository(
    sim: SimServer,
    flavour: str,
    tmp: Path,
    base: Mapping[str, str | Link] = BASE,
    feature: Mapping[str, str | Link] | None = None,
) -> tuple[RepoRef, Path]:
    """A repository of the simulator with main (``base``) and Alice's branch (``feature`` on
    top; V1 by default), and her work tree."""
    owner = "acme" if flavour == "cloud" else "SHOP"
    repo = RepoRef(owner=owner, slug="svc-" + uuid.uuid4().hex[:8])
    if flavour == "cloud":
        bare = sim.mounted("/bitbucket").state.bitbucket.create_repo(owner, repo.slug).git.path
        remote = f"{sim.url}/bitbucket/{owner}/{repo.slug}.git"
    else:
        dc = sim.mounted("/bitbucket-dc").state.bitbucket_dc
        bare = dc.create_repo(owner, repo.slug).git.path
        remote = f"{sim.url}/bitbucket-dc/scm/{owner}/{repo.slug}.git"
    work = Path(tempfile.mkdtemp(dir=tmp))
    git(work, "init", "-q", "-b", "main")
    write(work, base)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "Initial commit")
    git(work, "checkout", "-qb", BRANCH)
    write(work, {"app.py": V1} if feature is None else feature)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "OPS-7 run the configured command")
    git(work, "push", "-q", str(bare), "main", BRANCH)
    git(work, "remote", "add", "origin", remote)
    return repo, work


def write(work: Path, files: Mapping[str, str | Link]) -> None:
    for name, text in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        if isinstance(text, Link):
            path.symlink_to(text.target)
        else:
            path.write_text(text)


def install(
    serve_url: str,
    sim: SimServer,
    flavour: str,
    repo: RepoRef,
    secret: str,
    tenant: TenantClient | None = None,
) -> tuple[TenantClient, str]:
    """The agent installed for ``tenant`` (a new tenant by default) as its user would."""
    tenant = tenant or new_tenant(serve_url, "bb")
    mount = "/bitbucket" if flavour == "cloud" else "/bitbucket-dc"
    created = tenant.http.post(f"/v1/tenants/{tenant.id}/plugins", json={
        "plugin": "bitbucket", "name": f"bb-{secrets.token_hex(3)}",
        "config": {"deployment": flavour, "base_url": f"{sim.url}{mount}",
                   "repositories": [repo.full_name]},
        "secrets": {"webhook_secret": secret},
    })  # fmt: skip
    assert created.status_code == 201, created.text
    iid = created.json()["id"]
    base = f"/v1/tenants/{tenant.id}/plugins/{iid}"
    agent = account(sim, "dcoder-agent")
    auth = {"kind": "api_token", "email": agent.email, "token": agent.api_token} if (
        flavour == "cloud") else {"kind": "personal_access_token", "token": agent.pat}  # fmt: skip
    assert tenant.http.put(f"{base}/auth", json=auth).status_code == 200
    enabled = tenant.http.post(f"{base}/enable")
    assert enabled.status_code == 200, enabled.text
    return tenant, iid


def open_pr(
    serve_url: str,
    sim: SimServer,
    flavour: str,
    tmp: Path,
    base: Mapping[str, str | Link] = BASE,
    feature: Mapping[str, str | Link] | None = None,
    tenant: TenantClient | None = None,
) -> Pr:
    """A tenant (``tenant``, or a new one) with the agent installed; Alice's repository, its
    webhook, then her PR."""
    repo, work = repository(sim, flavour, tmp, base, feature)
    secret = secrets.token_urlsafe(24)
    tenant, iid = install(serve_url, sim, flavour, repo, secret, tenant)
    pr = Pr(sim, tenant, iid, flavour, repo, work)
    hook_url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"
    with pr.alice_http() as http:
        if flavour == "cloud":
            api = f"{pr.mount}/2.0/repositories/{repo.full_name}"
            hook = http.post(
                f"{api}/hooks",
                json={
                    "url": hook_url,
                    "secret": secret,
                    "events": [
                        "pullrequest:created",
                        "pullrequest:updated",
                        "pullrequest:comment_created",
                    ],
                },
            )
            made = http.post(
                f"{api}/pullrequests",
                json={
                    "title": TITLE,
                    "source": {"branch": {"name": BRANCH}},
                    "destination": {"branch": {"name": "main"}},
                },
            )
        else:
            api = f"{pr.mount}/rest/api/1.0/projects/{repo.owner}/repos/{repo.slug}"
            hook = http.post(
                f"{api}/webhooks",
                json={
                    "name": "dcoder",
                    "url": hook_url,
                    "configuration": {"secret": secret},
                    "events": ["pr:opened", "pr:from_ref_updated", "pr:comment:added"],
                },
            )
            made = http.post(f"{api}/pull-requests", json={
                "title": TITLE, "fromRef": {"id": f"refs/heads/{BRANCH}"},
                "toRef": {"id": "refs/heads/main"}})  # fmt: skip
    assert hook.status_code == 201, hook.text
    assert made.status_code == 201, made.text
    pr.pr_id = made.json()["id"]
    return pr


def summaries(pr: Pr) -> list[PostedComment]:
    return [c for c in pr.comments() if "edited on every push" in c.text]


def inline_comments(pr: Pr) -> list[PostedComment]:
    return [c for c in pr.comments() if c.inline is not None and c.parent_id is None]


def reviewed(pr: Pr, head: str) -> list[PostedComment] | None:
    found = summaries(pr)
    return found if found and head[:12] in found[0].text else None


def replay_posts_nothing(pr: Pr) -> None:
    """The pull request's webhooks sent again (the same id, a new id): nothing is posted twice."""
    mount, product = ("/bitbucket", "bitbucket-cloud") if pr.flavour == "cloud" else (
        "/bitbucket-dc", "bitbucket-dc")  # fmt: skip
    state = pr.sim.mounted(mount).state
    sender = (state.bitbucket if pr.flavour == "cloud" else state.bitbucket_dc).sender
    hook = next(h for h in sender.hooks(product) if h.url.endswith(pr.iid))
    sent = [d for d in sender.deliveries() if d.hook_uuid == hook.uuid]
    assert sent
    before, jobs = pr.comments(), pr.jobs()
    url = f"{str(pr.tenant.http.base_url).rstrip('/')}/v1/webhooks/{pr.tenant.id}/{pr.iid}"
    id_header = "X-Request-UUID" if pr.flavour == "cloud" else "X-Request-Id"
    for delivery in sent:
        for request_id in (delivery.id, str(uuid.uuid4())):
            headers = delivery_headers(hook, delivery, 2) | {id_header: request_id}
            answer = httpx.post(url, content=delivery.body, headers=headers, timeout=30)
            assert answer.status_code in (200, 202), answer.text
    wait("the replays handled", pr.settled, show=pr.state)
    assert [(c.id, c.text, c.resolved) for c in pr.comments()] == [
        (c.id, c.text, c.resolved) for c in before
    ]
    assert pr.jobs() == jobs  # a reviewed head is not reviewed again
