"""BitbucketPlugin in the SDK harness against the simulators: configure as the agent (Cloud and
DC), webhooks parsed from the real captures, merges announced once, reviews run (the harness
runs the job in-process: the real fetch over HTTP and the real sandbox)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from plugin_sdk import PermanentError, PluginAuthFailed, PluginConfigInvalid
from plugin_sdk.memory import ScriptedLlm
from plugin_sdk.testing import PluginHarness
from plugins.bitbucket.plugin import SERVER_KEY, BitbucketPlugin, Server
from tests.plugins.bitbucket.conftest import SimServer, contract
from tests.plugins.bitbucket.repos import Made, account, cloud_pr, dc_pr

SECRETS = {"webhook_secret": "s3cret"}


def _harness(
    sim: SimServer, flavour: str = "cloud", llm: ScriptedLlm | None = None, **config: Any
) -> PluginHarness[BitbucketPlugin]:
    mount = "/bitbucket" if flavour == "cloud" else "/bitbucket-dc"
    base = {"deployment": flavour, "base_url": sim.url + mount}
    harness = PluginHarness(BitbucketPlugin, config=base | config, secrets=SECRETS, llm=llm)
    me = account(sim, "dcoder-agent")
    if flavour == "cloud":  # what the platform's auth attaches
        harness.http.auth = httpx.BasicAuth(me.email, me.api_token)
    else:
        harness.http.headers["Authorization"] = f"Bearer {me.pat}"
    return harness


@pytest.fixture(params=["cloud", "dc"])
async def agent(
    request: pytest.FixtureRequest, sim: SimServer
) -> AsyncIterator[tuple[PluginHarness[BitbucketPlugin], Made]]:
    made = cloud_pr(sim) if request.param == "cloud" else dc_pr(sim)
    harness = _harness(sim, request.param, repositories=[made.repo.full_name])
    await harness.install()
    await harness.enable()
    yield harness, made
    await harness.aclose()


async def test_configure_records_the_agent(
    sim: SimServer, agent: tuple[PluginHarness[BitbucketPlugin], Made]
) -> None:
    harness, _ = agent
    server = Server.model_validate(await harness.store.get(SERVER_KEY))
    me = account(sim, "dcoder-agent")
    assert server.agent.name == me.username
    assert server.flavour == harness.plugin.config.deployment
    assert "checked as dcoder-agent; reviews: analyzers only" in (await harness.health()).detail


async def test_unknown_repository_wrong_server_and_wrong_token(sim: SimServer) -> None:
    missing = _harness(sim, repositories=["acme/does-not-exist"])
    with pytest.raises(PluginConfigInvalid, match="acme/does-not-exist does not exist"):
        await missing.install()
    await missing.aclose()
    nowhere = _harness(sim, "dc", base_url=sim.url + "/bitbucket")  # Cloud is not a DC server
    with pytest.raises(PluginConfigInvalid, match="is not a Bitbucket DC"):
        await nowhere.install()
    await nowhere.aclose()
    wrong = _harness(sim)
    wrong.http.auth = httpx.BasicAuth("agent@example.com", "not-the-token")
    await wrong.ctx.credentials.put("api_token", {"email": "agent@example.com", "token": "x"})
    with pytest.raises(PluginAuthFailed):
        await wrong.install()
    await wrong.aclose()


async def test_configure_before_credentials_checks_on_enable(sim: SimServer) -> None:
    harness = _harness(sim)
    harness.http.auth = httpx.BasicAuth("", "")  # the service: credentials come after install
    await harness.install()
    assert await harness.store.get(SERVER_KEY) is None
    me = account(sim, "dcoder-agent")
    harness.http.auth = httpx.BasicAuth(me.email, me.api_token)
    await harness.enable()
    assert Server.model_validate(await harness.store.get(SERVER_KEY)).agent.id == me.account_id
    await harness.aclose()


def _payloads(flavour: str, made: Made) -> dict[str, tuple[str, dict[str, Any]]]:
    """Real captures pointed at the simulator's repository and pull request."""
    if flavour == "cloud":
        out = {}
        for kind, key, name in (
            ("opened", "pullrequest:created", "pullrequest_created"),
            ("merged", "pullrequest:fulfilled", "pullrequest_fulfilled"),
            ("comment", "pullrequest:comment_created", "pullrequest_comment_created"),
        ):
            body = contract("bitbucket-cloud", name)
            body["repository"]["full_name"] = made.repo.full_name
            body["pullrequest"]["id"] = made.pr_id
            body["pullrequest"]["source"]["branch"]["name"] = made.branch
            out[kind] = (key, body)
        return out
    out = {}
    for kind, key, name in (
        ("opened", "pr:opened", "pr_opened"),
        ("merged", "pr:merged", "pr_merged"),
    ):
        body = contract("bitbucket-dc", name)
        ref = body["pullRequest"]["toRef"]["repository"]
        ref["slug"], ref["project"]["key"] = made.repo.slug, made.repo.owner
        body["pullRequest"]["id"] = made.pr_id
        body["pullRequest"]["fromRef"]["displayId"] = made.branch
        out[kind] = (key, body)
    comment = contract("bitbucket-dc", "pr_opened")
    comment["pullRequest"] = out["opened"][1]["pullRequest"]
    comment["eventKey"] = "pr:comment:added"
    comment["comment"] = {"id": 1, "text": "", "author": {"name": "alice", "id": 3}}
    out["comment"] = ("pr:comment:added", comment)
    return out


def _with_text(
    flavour: str, body: dict[str, Any], text: str, author: dict[str, Any]
) -> dict[str, Any]:
    copy = dict(body)
    if flavour == "cloud":
        copy["comment"] = body["comment"] | {"content": {"raw": text}, "user": author}
    else:
        copy["comment"] = body["comment"] | {"text": text, "author": author}
    return copy


async def test_merge_is_announced_once_with_jira_keys(
    agent: tuple[PluginHarness[BitbucketPlugin], Made],
) -> None:
    harness, made = agent
    flavour = harness.plugin.config.deployment
    key, body = _payloads(flavour, made)["merged"]
    first = await harness.webhook(body, headers={"X-Event-Key": key})
    await harness.redeliver(first)  # a replayed webhook: the same event id, published once
    again = await harness.webhook(body, headers={"X-Event-Key": key})  # Bitbucket sends it again
    assert again.delivery_id != first.delivery_id
    events = harness.published_events
    assert [e.subject for e in events] == ["bitbucket.pr.merged"]
    assert harness.publisher.attempts == 3  # three publishes of one id: JetStream keeps one
    data = events[0].data
    assert data["jira_keys"] == ["SHOP-12", "OPS-7"]  # branch, then the commit (title is theirs)
    assert data["pull_request"]["repository"] == made.repo.full_name and data["merge_commit"]


def _mention(sim: SimServer, flavour: str, text: str) -> str:
    me = account(sim, "dcoder-agent")
    return f"@{{{me.account_id}}} {text}" if flavour == "cloud" else f"@dcoder-agent {text}"


def _alice(flavour: str) -> dict[str, Any]:
    if flavour == "cloud":
        return {"account_id": "557058:alice", "nickname": "alice"}
    return {"name": "alice", "id": 3}


async def test_opened_pull_request_is_reviewed_once_and_commands_obeyed(
    sim: SimServer, agent: tuple[PluginHarness[BitbucketPlugin], Made]
) -> None:
    harness, made = agent
    flavour = harness.plugin.config.deployment
    payloads = _payloads(flavour, made)
    key, opened = payloads["opened"]
    await harness.webhook(opened, headers={"X-Event-Key": key})
    [job] = harness.jobs
    review_key = f"{flavour}:{made.repo.full_name}#{made.pr_id}"
    assert job.submission.kind == "review" and job.submission.key == review_key
    me = account(sim, "dcoder-agent")
    secret = me.api_token if flavour == "cloud" else me.pat
    assert secret not in json.dumps(job.submission.payload)  # no credential in the payload
    basic = base64.b64encode(f"{me.email}:{me.api_token}".encode()).decode()
    harness.job_auth = f"Basic {basic}" if flavour == "cloud" else f"Bearer {me.pat}"
    [done] = await harness.run_jobs()
    assert done.subject == "job.completed", done.data
    client = harness.plugin.client()
    comments = [
        c for c in await client.comments(made.repo, made.pr_id) if c.author.name == me.username
    ]
    inline = [c for c in comments if c.inline is not None]
    summaries = [c for c in comments if "edited on every push" in c.text]
    assert len(summaries) == 1 and inline, [c.text[:80] for c in comments]
    assert all(c.inline is not None and c.inline.path == "app.py" for c in inline)
    assert {c.inline.line for c in inline if c.inline} == {6}  # the shell=True line
    assert "static analysis only" in summaries[0].text  # no LLM in this harness
    [completed] = [e for e in harness.published_events if e.subject == "review.completed"]
    assert completed.data["jira_keys"][:1] == ["SHOP-12"] and completed.data["new"] == len(inline)
    # the same webhook again: that head is reviewed, nothing is submitted
    await harness.webhook(opened, headers={"X-Event-Key": key})
    assert len(harness.jobs) == 1
    # the ledger lost (a crash after posting, before it was saved): the next review finds the
    # comments by their markers instead of posting them again
    await harness.store.set(f"ledger:{review_key}", {"key": review_key})
    # "full review" reviews again: nothing new, the one summary edited in place
    ckey, comment = payloads["comment"]
    body = _with_text(flavour, comment, _mention(sim, flavour, "full review"), _alice(flavour))
    await harness.webhook(body, headers={"X-Event-Key": ckey})
    assert len(harness.jobs) == 2
    await harness.run_jobs()
    again = [
        c for c in await client.comments(made.repo, made.pr_id) if c.author.name == me.username
    ]
    assert len(again) == len(comments)
    # pause: an update is not reviewed
    body = _with_text(flavour, comment, _mention(sim, flavour, "pause"), _alice(flavour))
    await harness.webhook(body, headers={"X-Event-Key": ckey})
    ledger = await harness.store.get(f"ledger:{review_key}")
    assert ledger is not None and ledger["paused"] is True
    # no mention, or the agent's own comment: nothing at all
    await harness.webhook(_with_text(flavour, comment, "LGTM", _alice(flavour)),
                          headers={"X-Event-Key": ckey})  # fmt: skip
    mine = {"account_id": me.account_id, "nickname": "dcoder-agent"} if flavour == "cloud" else {
        "name": "dcoder-agent", "id": 2}  # fmt: skip
    own = _with_text(flavour, comment, _mention(sim, flavour, "review"), mine)
    await harness.webhook(own, headers={"X-Event-Key": ckey})
    assert len(harness.jobs) == 2


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
async def test_a_skipped_pull_request_is_said_once_and_not_reviewed(
    sim: SimServer, flavour: str
) -> None:
    made = cloud_pr(sim) if flavour == "cloud" else dc_pr(sim)
    skip = {"skip": {"branches": ["feature/*"]}}
    harness = _harness(sim, flavour, repositories=[made.repo.full_name], review=skip)
    await harness.install()
    await harness.enable()
    key, opened = _payloads(flavour, made)["opened"]
    for _ in range(2):  # Bitbucket sends it again: still one note
        await harness.webhook(opened, headers={"X-Event-Key": key})
    assert harness.jobs == []
    me = account(sim, "dcoder-agent")
    mine = [c for c in await harness.plugin.client().comments(made.repo, made.pr_id)
            if c.author.name == me.username]  # fmt: skip
    assert [c.text for c in mine] == [
        "⏭️ No review: source branch 'feature/SHOP-12-run' matches skip pattern 'feature/*'. "
        "_dcoder review_"
    ]
    await harness.aclose()


async def test_other_repositories_and_events_are_ignored(
    agent: tuple[PluginHarness[BitbucketPlugin], Made],
) -> None:
    harness, made = agent
    flavour = harness.plugin.config.deployment
    key, opened = _payloads(flavour, made)["opened"]
    other = contract(
        "bitbucket-cloud" if flavour == "cloud" else "bitbucket-dc",
        "pullrequest_created" if flavour == "cloud" else "pr_opened",
    )
    await harness.webhook(other, headers={"X-Event-Key": key})  # not a watched repository
    await harness.webhook({"push": {}}, headers={"X-Event-Key": "repo:push"})
    with pytest.raises(PermanentError, match="no pullrequest"):
        await harness.webhook({"repository": {}}, headers={"X-Event-Key": "pullrequest:created"})
    assert harness.published_events == []


async def test_with_an_llm_its_findings_are_posted_and_the_summary_says_so(
    sim: SimServer,
) -> None:
    made = cloud_pr(sim)
    answer = {"findings": [{
        "path": "app.py", "line": 2, "severity": "medium", "category": "error-handling",
        "confidence": 0.9, "message": "KeyError when CMD is unset",
        "fix_hint": "Use os.environ.get with a default.",
    }]}  # fmt: skip
    llm = ScriptedLlm([json.dumps(answer)])
    harness = _harness(sim, llm=llm, repositories=[made.repo.full_name])
    await harness.install()
    await harness.enable()
    key, opened = _payloads("cloud", made)["opened"]
    await harness.webhook(opened, headers={"X-Event-Key": key})
    me = account(sim, "dcoder-agent")
    harness.job_auth = "Basic " + base64.b64encode(f"{me.email}:{me.api_token}".encode()).decode()
    [done] = await harness.run_jobs()
    assert done.subject == "job.completed", done.data
    mine = [c for c in await harness.plugin.client().comments(made.repo, made.pr_id)
            if c.author.name == me.username]  # fmt: skip
    [summary] = [c for c in mine if "edited on every push" in c.text]
    assert "and LLM review (prompt bitbucket-review@v1)" in summary.text, summary.text
    by_llm = [c for c in mine if "KeyError when CMD is unset" in c.text]
    # on a line no analyzer flagged (the LLM's finding on an analyzer's line is dropped)
    assert len(by_llm) == 1 and by_llm[0].inline is not None and by_llm[0].inline.line == 2
    await harness.aclose()
