"""Cloud and Data Center clients against the real simulators over HTTP, faults included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from plugins.bitbucket.client import BitbucketClient, Inline, client_for
from plugins.bitbucket.errors import (
    BitbucketAuthFailed,
    BitbucketNotFound,
    BitbucketRateLimited,
    BitbucketUnavailable,
)
from plugins.bitbucket.findings import Severity
from plugins.bitbucket.insights import REPORT_KEY, build_report
from plugins.bitbucket.transport import RetrySettings
from tests.plugins.bitbucket.conftest import SimServer
from tests.plugins.bitbucket.findings_data import finding
from tests.plugins.bitbucket.repos import REVIEW_YAML, Made, account, cloud_pr, dc_pr

FAST = RetrySettings(max_attempts=3, backoff_s=0.01, max_backoff_s=0.05, max_retry_after_s=2)
MOUNT = {"cloud": "/bitbucket", "dc": "/bitbucket-dc"}


@dataclass
class Env:
    flavour: str
    client: BitbucketClient
    made: Made
    sim: SimServer

    def prefix(self) -> str:
        """Request paths of this repository (fault rules match on them)."""
        owner, slug = self.made.repo.owner, self.made.repo.slug
        if self.flavour == "cloud":
            return f"/bitbucket/2.0/repositories/{owner}/{slug}"
        return f"/bitbucket-dc/rest/api/1.0/projects/{owner}/repos/{slug}"


def agent_http(sim: SimServer, flavour: str, token: str | None = None) -> httpx.AsyncClient:
    """The agent's HTTP client, with what the platform's auth would attach."""
    me = account(sim, "dcoder-agent")
    if flavour == "cloud":
        return httpx.AsyncClient(auth=(me.email, token or me.api_token), timeout=10)
    return httpx.AsyncClient(headers={"Authorization": f"Bearer {token or me.pat}"}, timeout=10)


@pytest.fixture(params=["cloud", "dc"])
async def env(request: pytest.FixtureRequest, sim: SimServer) -> AsyncIterator[Env]:
    flavour = request.param
    made = cloud_pr(sim) if flavour == "cloud" else dc_pr(sim)
    async with agent_http(sim, flavour) as http:
        yield Env(flavour, client_for(flavour, http, sim.url + MOUNT[flavour], FAST), made, sim)


async def _fault(sim: SimServer, **rule: Any) -> str:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as http:
        made = await http.post("/_sim/faults", json=rule)
        assert made.status_code == 201
        return str(made.json()["id"])


async def _hits(sim: SimServer, rule_id: str) -> int | None:
    """Hits of a still-active rule (None once it is used up)."""
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as http:
        rules = (await http.get("/_sim/faults")).json()
    return next((r["hits"] for r in rules if r["id"] == rule_id), None)


async def _clear(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as http:
        await http.delete("/_sim/faults")


async def test_identity_and_server(env: Env) -> None:
    me = await env.client.whoami()
    agent = account(env.sim, "dcoder-agent")
    assert (me.id if env.flavour == "cloud" else me.name) == (
        agent.account_id if env.flavour == "cloud" else "dcoder-agent"
    )
    info = await env.client.server_info()
    assert info.flavour == env.flavour
    assert (await env.client.repository(env.made.repo))["slug"] == env.made.repo.slug


async def test_pull_request_diff_changes_commits_and_files(env: Env) -> None:
    c, repo, pr_id = env.client, env.made.repo, env.made.pr_id
    pr = await c.pull_request(repo, pr_id)
    assert pr.source_branch == env.made.branch and pr.target_branch == "main"
    assert len(pr.head) == 40 and len(pr.base) == 40 and pr.author.name == "alice"
    diff = await c.diff(repo, pr_id)
    assert "+import subprocess" in diff and "diff --git a/app.py b/app.py" in diff
    changed = {f.path: f.status for f in await c.changes(repo, pr_id)}
    assert changed == {
        "app.py": "modified",
        ".dcoder/review.yaml": "modified",
        "docs/notes.md": "added",
    }
    assert any("OPS-7" in m for m in await c.commit_messages(repo, pr_id))
    # the review reads its settings at the BASE: the PR's own edit does not count
    assert await c.file_at(repo, pr.base, ".dcoder/review.yaml") == REVIEW_YAML.encode()
    assert await c.file_at(repo, pr.head, ".dcoder/review.yaml") == b"max_comments: 0\n"
    assert await c.file_at(repo, pr.base, "nope.yaml") is None


async def test_comments_inline_summary_edit_resolve_reopen(env: Env) -> None:
    c, repo, pr_id = env.client, env.made.repo, env.made.pr_id
    inline = await c.add_comment(
        repo, pr_id, "shell=True with env data", inline=Inline(path="app.py", line=6)
    )
    summary = await c.add_comment(repo, pr_id, "summary v1")
    edited = await c.edit_comment(repo, pr_id, summary.id, "summary v2")
    assert edited.id == summary.id and edited.text == "summary v2"
    assert inline.inline == Inline(path="app.py", line=6)
    await c.resolve_comment(repo, pr_id, inline.id, reply="Fixed in abc.")
    await c.resolve_comment(repo, pr_id, inline.id, reply=None)  # twice is fine
    assert (await c.comment(repo, pr_id, inline.id)).resolved
    await c.reopen_comment(repo, pr_id, inline.id)
    assert not (await c.comment(repo, pr_id, inline.id)).resolved
    mine = [x for x in await c.comments(repo, pr_id)]
    texts = sorted(x.text for x in mine if x.parent_id is None)
    assert texts == ["shell=True with env data", "summary v2"]  # one summary, edited in place
    me = account(env.sim, "dcoder-agent")
    assert all(x.author.name == me.username for x in mine)
    replies = [x for x in mine if x.parent_id == inline.id]
    assert [r.text for r in replies] == (["Fixed in abc."] if env.flavour == "dc" else [])


async def test_code_insights_report_replaced_per_commit(env: Env) -> None:
    c, repo = env.client, env.made.repo
    head = (await c.pull_request(repo, env.made.pr_id)).head
    two = [
        finding(path="app.py", line=6),
        finding(path="app.py", line=2, severity="low", fp="2" * 32),
    ]
    await c.put_report(repo, head, build_report(two, Severity.HIGH, env.flavour))  # type: ignore[arg-type]
    stored = await c.get_report(repo, head, REPORT_KEY)
    assert stored["result"] == ("FAILED" if env.flavour == "cloud" else "FAIL")
    assert len(await c.annotations(repo, head, REPORT_KEY)) == 2
    await c.put_report(repo, head, build_report(two[1:], Severity.HIGH, env.flavour))  # type: ignore[arg-type]
    assert (await c.get_report(repo, head, REPORT_KEY))["result"] in ("PASSED", "PASS")
    assert len(await c.annotations(repo, head, REPORT_KEY)) == 1


async def test_rate_limit_and_5xx_are_retried_for_reads(env: Env) -> None:
    try:
        await _fault(env.sim, path_prefix=env.prefix(), kind="rate_limit", retry_after_s=1, count=1)
        await _fault(env.sim, path_prefix=env.prefix(), kind="server_error", status=502, count=1)
        assert (await env.client.pull_request(env.made.repo, env.made.pr_id)).id == env.made.pr_id
        await _fault(env.sim, path_prefix=env.prefix(), kind="drop", count=1)
        assert await env.client.diff(env.made.repo, env.made.pr_id)
        await _fault(env.sim, path_prefix=env.prefix(), kind="server_error", count=None)
        with pytest.raises(BitbucketUnavailable) as down:
            await env.client.pull_request(env.made.repo, env.made.pr_id)
        assert not down.value.ambiguous
        await _clear(env.sim)
        await _fault(env.sim, path_prefix=env.prefix(), kind="rate_limit", retry_after_s=60)
        with pytest.raises(BitbucketRateLimited) as limited:
            await env.client.pull_request(env.made.repo, env.made.pr_id)
        assert limited.value.retry_after_s == 60  # longer than we wait: the delivery's to wait
    finally:
        await _clear(env.sim)


async def test_a_new_comment_is_never_sent_twice(env: Env) -> None:
    c, repo, pr_id = env.client, env.made.repo, env.made.pr_id
    before = len(await c.comments(repo, pr_id))
    try:
        rule = await _fault(
            env.sim, path_prefix=env.prefix(), method="POST", kind="server_error", count=3
        )
        with pytest.raises(BitbucketUnavailable) as ambiguous:
            await c.add_comment(repo, pr_id, "once")
        assert ambiguous.value.ambiguous and await _hits(env.sim, rule) == 1  # one attempt only
        await _clear(env.sim)
        rule = await _fault(env.sim, path_prefix=env.prefix(), method="POST", kind="drop", count=3)
        with pytest.raises(BitbucketUnavailable):
            await c.add_comment(repo, pr_id, "once")
        assert await _hits(env.sim, rule) == 1
        await _clear(env.sim)
        # a 429 means Bitbucket did not act: retried, posted once
        await _fault(
            env.sim, path_prefix=env.prefix(), method="POST", kind="rate_limit", retry_after_s=0
        )
        await c.add_comment(repo, pr_id, "once")
    finally:
        await _clear(env.sim)
    assert [x.text for x in await c.comments(repo, pr_id)].count("once") == 1
    assert len(await c.comments(repo, pr_id)) == before + 1


async def test_typed_refusals(env: Env) -> None:
    with pytest.raises(BitbucketNotFound):
        await env.client.pull_request(env.made.repo, 999)
    async with agent_http(env.sim, env.flavour, token="wrong") as http:
        bad = client_for(env.flavour, http, env.sim.url + MOUNT[env.flavour], FAST)  # type: ignore[arg-type]
        with pytest.raises(BitbucketAuthFailed):
            await bad.whoami()
