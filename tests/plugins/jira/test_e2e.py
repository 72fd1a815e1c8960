"""The Jira agent through the real service (Ray, NATS, PostgreSQL) and the simulator over HTTP.

Each test installs the ``jira`` plugin for a tenant as a user would (config, the agent's API
token or PAT through the auth API, enable), lets the simulator send its real signed
``comment_created`` webhook when Alice mentions the agent, and polls the simulated site with a
deadline for what the agent wrote. The simulator listens on the port the session reserved for
it (``DCODER_EGRESS_ALLOW`` lets plugins reach only that loopback port). The install and probe
helpers are e2ekit.py's.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import nats
import pytest

from core.credentials import CredentialStore
from core.crypto import SecretBox
from core.db import Database
from core.keys import secrets_keys
from core.settings import load_settings
from core.signing import sign_hub_signature
from plugin_sdk.events import Event, EventSource
from tests.conftest import TestServices
from tests.fixtures.polling import wait
from tests.plugins.jira import sitekit as kit
from tests.plugins.jira.e2ekit import Agent, Sim, answers, authorize, deliveries, install
from tests.serve_app.api_client import new_tenant
from tests.simulators.conftest import serving


@pytest.fixture(scope="module")
def sim(test_services: TestServices, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    sock = test_services.jira_sim_socket
    assert sock is not None
    # OAuth access tokens live 60 s, inside the platform's 120 s refresh window: every call of a
    # 3LO instance refreshes first
    with serving(sock, tmp_path_factory.mktemp("jira-sim"), access_token_ttl_s=60) as server:
        yield Sim(server.url, server.config, server.app)


def _refresh_token(test_services: TestServices, agent: Agent) -> str:
    async def read() -> str:
        db = Database(test_services.database_url)
        try:
            box = SecretBox(secrets_keys(load_settings(), create=False))
            credential = await CredentialStore(db, box).get(agent.tenant.id, agent.id)
        finally:
            await db.close()
        assert credential is not None
        return credential.values["refresh_token"]

    return asyncio.run(read())


def _mention(sim: Sim, agent: Agent, key: str, word: str = "", who: str = "alice",
             to: str = "dcoder-agent") -> dict:  # fmt: skip
    me = kit.account(sim.config, to)
    dc = agent.mount == "/jira-dc"
    mention = f"[~{me.username}]" if dc else f"[~accountid:{me.account_id}]"
    return kit.comment(sim.url + agent.mount, kit.account(sim.config, who), key,
                       f"{mention} {word}", dc=dc)  # fmt: skip


def _settled(agent: Agent, count: int) -> list[dict[str, Any]]:
    """Wait until ``count`` deliveries of the instance are done (or dead); return them."""

    def ended() -> list[dict[str, Any]] | None:
        rows = deliveries(agent)
        ends = [r for r in rows if r["status"] in ("done", "dead")]
        return rows if len(rows) >= count and len(ends) == len(rows) else None

    return list(wait(f"{count} deliveries to end", ended))


def test_cloud_mention_answered_once_with_an_estimate_from_the_fitted_history(
    serve_url: str, sim: Sim
) -> None:
    agent = install(serve_url, sim, new_tenant(serve_url, "jira"), history=30)
    wait("the fit job's model", lambda: agent.model(30), show=agent.state)
    state = sim.state()
    hooks = [w for w in state.webhooks.values() if w.url.endswith(agent.id)]
    assert len(hooks) == 1 and hooks[0].secret == agent.secret  # registered by the agent
    key = kit.story(state, agent.project)
    _mention(sim, agent, key, "")
    answer = wait("the agent's comment", lambda: answers(sim, agent, key))
    assert len(answer) == 1 and answer[0].adf is not None  # one ADF comment, by the agent
    assert "story points" in answer[0].body and "from 30 past stories" in answer[0].body
    assert "deterministic rules, no LLM" in answer[0].body
    issue = state.issue(key)
    assert issue is not None
    wait("the field and label", lambda: "ai-estimated" in issue.fields["labels"])
    assert issue.fields[state.story_points_id] is not None
    # the site sends the agent's answer back to it as a comment_created: handled, ignored
    rows = _settled(agent, 2)
    assert {r["status"] for r in rows} == {"done"} and len(rows) == 2, [
        (r.get("kind"), r["event_key"], r["status"]) for r in rows
    ]
    # a mention written by the agent's account and a comment without mention: nothing
    _mention(sim, agent, key, "estimate", who="dcoder-agent")
    kit.comment(sim.url + "/jira", kit.account(sim.config, "alice"), key, "thanks, no mention")
    assert len(_settled(agent, 4)) == 4
    assert len(answers(sim, agent, key)) == 2  # the one by the test as the agent + the answer


def test_replayed_webhook_posts_nothing_new(serve_url: str, sim: Sim) -> None:
    agent = install(serve_url, sim, new_tenant(serve_url, "jira"))
    key = kit.story(sim.state(), agent.project)
    made = _mention(sim, agent, key, "analyze")
    wait("the agent's comment", lambda: answers(sim, agent, key))
    _settled(agent, 2)  # the mention and the answer coming back
    body = json.dumps(kit.comment_created(made, key)).encode()
    for identifier in ("replay-same-comment-1", "replay-same-comment-1", "replay-other-id"):
        response = httpx.post(
            f"{serve_url}/v1/webhooks/{agent.tenant.id}/{agent.id}", content=body,
            headers={"X-Hub-Signature": sign_hub_signature(agent.secret, body),
                     "X-Atlassian-Webhook-Identifier": identifier,
                     "content-type": "application/json"}, timeout=30,
        )  # fmt: skip
        assert response.status_code in (200, 202), response.text
    rows = _settled(agent, 4)  # + the replay and another id (the same id again: duplicate)
    assert len(rows) == 4 and all(r["status"] == "done" for r in rows)
    assert len(answers(sim, agent, key)) == 1


def test_data_center_mention_is_answered_in_wiki_markup(serve_url: str, sim: Sim) -> None:
    agent = install(serve_url, sim, new_tenant(serve_url, "jdc"), mount="/jira-dc", history=6)
    wait("the fit job's model", lambda: agent.model(6), show=agent.state)
    state = sim.state("/jira-dc")
    key = kit.story(state, agent.project)
    _mention(sim, agent, key, "estimate")
    [answer] = wait("the agent's comment", lambda: answers(sim, agent, key))
    assert answer.adf is None and answer.body.startswith(f"h3. dcoder agent on {key}")
    issue = state.issue(key)
    assert issue is not None
    wait("the field", lambda: issue.fields[state.story_points_id] is not None)


def test_jira_errors_are_retried_then_dead_lettered_with_the_reason(
    serve_url: str, sim: Sim
) -> None:
    agent = install(serve_url, sim, new_tenant(serve_url, "jfault"))
    key = kit.story(sim.state(), agent.project)
    comments = f"/jira/rest/api/3/issue/{key}/comment"
    kit.fault(sim.url, path_prefix=comments, method="POST", kind="rate_limit", count=2,
              retry_after_s=1)  # fmt: skip
    _mention(sim, agent, key, "analyze")
    wait("the answer after 429s", lambda: answers(sim, agent, key))
    other = kit.story(sim.state(), agent.project)
    burst = f"/jira/rest/api/3/issue/{other}/comment"
    kit.fault(sim.url, path_prefix=burst, method="POST", kind="server_error", status=503,
              count=None)  # fmt: skip
    try:
        _mention(sim, agent, other, "analyze")
        rows = _settled(agent, 3)  # mention, answer, the mention that fails
    finally:
        kit.clear_faults(sim.url)
    dead = next(r for r in rows if r["status"] == "dead")
    error = str(dead["last_error"])
    assert dead["attempts"] >= 2 and f"POST /rest/api/3/issue/{other}/comment" in error, error
    # Jira's own answer, or the platform's breaker of this site once it kept failing
    assert "Jira answered 503" in error or "Jira kept failing; circuit of" in error, error
    letters = agent.tenant.http.get(f"/v1/tenants/{agent.tenant.id}/dead-letters").json()
    assert [d["delivery_id"] for d in letters] == [dead["id"]]
    assert answers(sim, agent, other) == [] and len(answers(sim, agent, key)) == 1


def test_two_sites_of_one_tenant_and_a_second_tenant_stay_apart(serve_url: str, sim: Sim) -> None:
    first, second = new_tenant(serve_url, "ja"), new_tenant(serve_url, "jb")
    cloud = install(serve_url, sim, first)
    dc = install(serve_url, sim, first, mount="/jira-dc")
    other = install(serve_url, sim, second)
    key = kit.story(sim.state(), cloud.project)
    _mention(sim, cloud, key, "similar")
    wait("the agent's comment", lambda: answers(sim, cloud, key))
    _settled(cloud, 2)
    assert deliveries(dc) == [] and deliveries(other) == []
    theirs = second.http.get(f"/v1/tenants/{first.id}/plugins/{cloud.id}")
    assert theirs.status_code == 404
    dkey = kit.story(sim.state("/jira-dc"), dc.project)
    _mention(sim, dc, dkey, "help")
    [helped] = wait("the DC answer", lambda: answers(sim, dc, dkey))
    assert "commands" in helped.body
    _settled(dc, 2)
    assert len(deliveries(cloud)) == 2 and deliveries(other) == []


def test_3lo_tokens_are_refreshed_before_expiry_and_after_a_401(
    serve_url: str, sim: Sim, test_services: TestServices
) -> None:
    # the simulator's consent authorizes its demo user: that account is the agent here
    agent = install(serve_url, sim, new_tenant(serve_url, "j3lo"), oauth=True,
                     oauth_site=sim.url)  # fmt: skip
    # an OAuth 2.0 instance registers no admin webhook (not in the OAuth 2.0 API): the admin's
    [hook] = [w for w in sim.state().webhooks.values() if w.url.endswith(agent.id)]
    assert hook.name == "dcoder" and hook.secret == agent.secret
    assert "OAuth 2.0 instance may not register admin webhooks" in agent.health()["detail"]
    issued = _refresh_token(test_services, agent)
    key = kit.story(sim.state(), agent.project)
    kit.fault(sim.url, path_prefix=f"/jira/rest/api/3/issue/{key}", method="GET",
              kind="expired_token", count=1)  # fmt: skip
    _mention(sim, agent, key, "analyze", to="demo")
    [answer] = wait("the agent's comment", lambda: answers(sim, agent, key, by="demo"))
    assert answer.adf is not None and f"dcoder agent on {key}" in answer.body
    assert _refresh_token(test_services, agent) != issued  # refreshed (and rotated) on the way
    assert agent.tenant.http.get(f"{agent.base}").json()["state"] == "enabled"


def _revoke(sim: Sim, refresh_token: str) -> None:
    """The site revokes the instance's refresh token (its next refresh answers invalid_grant)."""
    response = httpx.post(f"{sim.url}/_sim/oauth", json={"revoke_refresh_token": refresh_token})
    assert response.json() == {"revoked": True}, response.text


def test_3lo_revoked_refresh_keeps_the_mention_until_a_new_authorization(
    serve_url: str, sim: Sim, test_services: TestServices
) -> None:
    agent = install(serve_url, sim, new_tenant(serve_url, "jreauth"), history=6, oauth=True,
                     oauth_site=sim.url)  # fmt: skip
    wait("the fit job's model", lambda: agent.model(6), show=agent.state)
    api, key = agent.tenant.http, kit.story(sim.state(), agent.project)
    # the access token (60 s) is already inside the refresh window, as if expired: the mention's
    # first call refreshes, with a refresh token the site has revoked in the meantime
    _revoke(sim, _refresh_token(test_services, agent))
    _mention(sim, agent, key, "estimate", to="demo")
    wait("needs_reauth", lambda: api.get(agent.base).json()["state"] == "needs_reauth",
          show=agent.state)  # fmt: skip
    wait("the kept mention", lambda: api.get(f"{agent.base}/auth").json()["held_deliveries"] == 1,
          show=agent.state)  # fmt: skip
    health = agent.health()
    assert health["status"] == "needs_reauth" and "invalid_grant" in health["detail"], health
    [kept] = deliveries(agent)
    assert kept["status"] == "retrying" and "re-authorized" in kept["last_error"], kept
    assert api.get(f"/v1/tenants/{agent.tenant.id}/dead-letters").json() == []
    assert answers(sim, agent, key, by="demo") == []
    # a new authorization through the API: the instance resumes and the kept mention is answered
    authorize(serve_url, sim, agent)
    assert api.get(agent.base).json()["state"] == "enabled"
    [answer] = wait("the agent's comment", lambda: answers(sim, agent, key, by="demo"),
                     show=agent.state)  # fmt: skip
    assert answer.adf is not None and f"dcoder agent on {key}" in answer.body
    state = sim.state()
    issue = state.issue(key)
    assert issue is not None
    wait("the field", lambda: issue.fields[state.story_points_id] is not None)
    rows = _settled(agent, 2)  # the kept mention and the answer coming back
    assert kept["id"] in {r["id"] for r in rows} and len(rows) == 2, rows
    assert {r["status"] for r in rows} == {"done"}, rows
    assert len(answers(sim, agent, key, by="demo")) == 1
    assert api.get(f"{agent.base}/auth").json()["held_deliveries"] == 0


def test_3lo_refresh_refused_inside_a_job_moves_the_instance_to_needs_reauth(
    serve_url: str, sim: Sim, test_services: TestServices
) -> None:
    agent = install(serve_url, sim, new_tenant(serve_url, "jjobauth"), history=6, oauth=True,
                     oauth_site=sim.url)  # fmt: skip
    wait("the fit job's model", lambda: agent.model(6), show=agent.state)
    api, jobs = agent.tenant.http, f"/v1/tenants/{agent.tenant.id}/jobs"
    assert api.post(f"{agent.base}/disable").status_code == 200
    # the access token is inside the refresh window: the sync job's first call refreshes, in the
    # Ray worker, with a refresh token the site has revoked meanwhile (no host call comes first)
    _revoke(sim, _refresh_token(test_services, agent))
    assert api.post(f"{agent.base}/enable").status_code == 200  # submits the sync-history job
    wait("needs_reauth", lambda: api.get(agent.base).json()["state"] == "needs_reauth",
          show=agent.state)  # fmt: skip
    rows = api.get(jobs, params={"kind": "sync-history"}).json()
    [failed] = [j for j in rows if j["instance_id"] == agent.id and j["status"] == "failed"]
    assert "invalid_grant" in failed["error"], failed
    assert failed["result"] == {"error_code": "credentials-refused", "auth_refused": True}
    health = agent.health()
    assert health["status"] == "needs_reauth", health
    assert f"sync-history job {failed['id']}" in health["detail"], health
    assert "invalid_grant" in health["detail"], health
    # a new authorization: enabled again (the job's event, already handled, marks nothing now)
    authorize(serve_url, sim, agent)
    assert api.get(agent.base).json()["state"] == "enabled"
    assert api.post(f"{agent.base}/disable").status_code == 200
    assert api.post(f"{agent.base}/enable").status_code == 200  # the sync runs as the agent again

    def synced() -> dict[str, Any] | None:
        rows = api.get(jobs, params={"kind": "sync-history"}).json()
        done = [j for j in rows if j["instance_id"] == agent.id and j["status"] == "done"]
        return done[0] if len(done) >= 2 else None

    wait("a sync after the new authorization", synced, show=agent.state)
    assert api.get(agent.base).json()["state"] == "enabled"


async def _publish_review(services: TestServices, event: Event) -> None:
    """Publish on the tenant's bus as the Bitbucket agent would (routed on dispatch)."""
    nc = await nats.connect(services.nats_url)
    try:
        subject = f"{services.namespace}.events.{event.tenant_id}.{event.subject}"
        await nc.jetstream().publish(subject, event.model_dump_json().encode(),
                                     headers={"Nats-Msg-Id": event.id})  # fmt: skip
    finally:
        await nc.close()


def test_review_completed_comments_once_with_a_remote_link(
    serve_url: str, sim: Sim, test_services: TestServices
) -> None:
    agent = install(serve_url, sim, new_tenant(serve_url, "jrev"))
    state = sim.state()
    key = kit.story(state, agent.project)
    url = "https://bitbucket.example.com/acme/shop/pull-requests/7"
    data = {"pull_request": {"flavour": "cloud", "repository": "acme/shop", "id": 7,
                             "title": "Export invoices", "url": url, "head": "c" * 40,
                             "source_branch": f"feature/{key}", "target_branch": "main",
                             "author": "Alice"},
            "jira_keys": [key], "result": "PASS", "open_counts": {"high": 0, "medium": 1,
            "low": 2}, "new": 3, "fixed": 0, "mode": "analyzers-only"}  # fmt: skip
    source = EventSource(plugin="bitbucket", instance_id="bb-1")
    first = Event(subject="review.completed", tenant_id=agent.tenant.id, source=source, data=data)
    asyncio.run(_publish_review(test_services, first))
    [told] = wait("the review comment", lambda: answers(sim, agent, key), show=agent.state)
    assert told.adf is not None and "dcoder review" in told.body and "PASS" in told.body
    issue = state.issue(key)
    assert issue is not None
    [link] = wait("the remote link", lambda: issue.remote_links)
    assert link["object"]["url"] == url
    # the same event again (the bus drops it) and a replay with a new id: nothing new
    again = first.model_copy(update={"id": f"review-replay-{secrets.token_hex(4)}"})
    for event in (first, again):
        asyncio.run(_publish_review(test_services, event))

    def reviews_done() -> list[dict[str, Any]] | None:
        rows = agent.tenant.http.get(f"/v1/tenants/{agent.tenant.id}/deliveries").json()
        mine = [r for r in rows if r["instance_id"] == agent.id
                and r["event_key"] == "review.completed"]  # fmt: skip
        return mine if len(mine) == 2 and all(r["status"] == "done" for r in mine) else None

    wait("the replay's delivery", reviews_done, show=agent.state)
    assert len(answers(sim, agent, key)) == 1 and len(issue.remote_links) == 1
