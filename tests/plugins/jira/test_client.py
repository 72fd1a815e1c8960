"""JiraClient against the real simulator over HTTP: accounts, fields, issues, comments, search,
and the simulator's faults (429 with Retry-After, 5xx bursts, dropped connections, 401)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from plugin_sdk.atlassian import adf_to_text
from plugin_sdk.http import retry_after_s
from plugins.jira.client import JiraClient, RetrySettings
from plugins.jira.errors import (
    JiraAuthFailed,
    JiraBadRequest,
    JiraNotFound,
    JiraRateLimited,
    JiraUnavailable,
)
from simulators.auth import accounts
from tests.plugins.jira.conftest import SimServer

FAST = RetrySettings(max_attempts=3, backoff_s=0.01, max_backoff_s=0.05, max_retry_after_s=2)


def _account(sim: SimServer, username: str) -> Any:
    return next(a for a in accounts(sim.config) if a.username == username)


@pytest.fixture
async def agent(sim: SimServer) -> AsyncIterator[JiraClient]:
    """The agent's client: its own API token, as the platform's auth would attach it."""
    me = _account(sim, "dcoder-agent")
    async with httpx.AsyncClient(auth=(me.email, me.api_token), timeout=10) as http:
        yield JiraClient(http, sim.url + "/jira", "cloud", FAST)


def _project(sim: SimServer, issues: int = 0) -> tuple[str, list[str]]:
    state = sim.mounted("/jira").state.jira
    key = "C" + uuid.uuid4().hex[:5].upper()
    project = state.add_project(key, "Client " + key)
    made = [
        state.create_issue(project, {"summary": f"story {n}", state.story_points_id: 3.0}).key
        for n in range(issues)
    ]
    return key, made


async def _fault(sim: SimServer, **rule: Any) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as http:
        assert (await http.post("/_sim/faults", json=rule)).status_code == 201


async def _clear(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as http:
        await http.delete("/_sim/faults")


async def test_myself_server_info_and_field_discovery(sim: SimServer, agent: JiraClient) -> None:
    me = await agent.myself()
    assert me.account_id == _account(sim, "dcoder-agent").account_id
    assert me.display_name == "dcoder Agent"
    info = await agent.server_info()
    assert info.flavour == "cloud" and info.deployment_type == "Cloud"
    key, _ = _project(sim)
    ids = await agent.discover_fields(key)
    state = sim.mounted("/jira").state.jira
    assert ids.story_points == state.story_points_id  # random per simulator: really discovered
    without_board = await agent.discover_fields()
    assert without_board.story_points == state.story_points_id


async def test_comment_as_the_agent_then_edit_fields_and_labels(
    sim: SimServer, agent: JiraClient
) -> None:
    _, (key,) = _project(sim, 1)
    posted = await agent.add_comment(key, {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "3 points"}]}]})  # fmt: skip
    assert posted.author_account_id == _account(sim, "dcoder-agent").account_id
    ids = await agent.discover_fields()
    assert ids.story_points is not None
    await agent.edit_issue(key, {ids.story_points: 5}, add_labels=["ai-estimated"])
    issue = await agent.get_issue(key)
    assert issue["fields"][ids.story_points] == 5
    assert issue["fields"]["labels"] == ["ai-estimated"]
    comments = issue["fields"]["comment"]["comments"]
    assert adf_to_text(comments[-1]["body"]) == "3 points"
    with pytest.raises(TypeError):
        await agent.add_comment(key, "wiki text is for Data Center")


async def test_dc_flavour_speaks_v2_wiki_and_startat_search(sim: SimServer) -> None:
    me = _account(sim, "dcoder-agent")
    state = sim.mounted("/jira-dc").state.jira
    key = "D" + uuid.uuid4().hex[:5].upper()
    project = state.add_project(key, "Data Center " + key)
    made = [state.create_issue(project, {"summary": f"story {n}"}).key for n in range(7)]
    headers = {"Authorization": f"Bearer {me.pat}"}  # a Data Center personal access token
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        dc = JiraClient(http, sim.url + "/jira-dc", "dc", FAST)
        assert (await dc.server_info()).flavour == "dc"
        myself = await dc.myself()
        assert (myself.username, myself.account_id) == ("dcoder-agent", None)
        posted = await dc.add_comment(made[0], "*bold* by the agent")
        assert (posted.author_name, posted.author_account_id) == ("dcoder-agent", None)
        found = [
            i["key"]
            async for i in dc.search(f"project = {key} ORDER BY key", ["summary"], page_size=3)
        ]
        assert (await dc.discover_fields(key)).story_points == state.story_points_id
        with pytest.raises(TypeError):
            await dc.add_comment(made[0], {"type": "doc", "version": 1, "content": []})
    assert found == made


async def test_cloud_search_pages_with_tokens_and_limit(sim: SimServer, agent: JiraClient) -> None:
    key, made = _project(sim, 12)
    jql = f"project = {key} ORDER BY key"
    found = [i async for i in agent.search(jql, ["summary"], page_size=5)]
    assert [i["key"] for i in found] == made and found[0]["fields"]["summary"] == "story 0"
    first = [i["key"] async for i in agent.search(jql, ["summary"], page_size=5, limit=6)]
    assert first == made[:6]
    with pytest.raises(JiraBadRequest) as bad:
        _ = [i async for i in agent.search("project = ", ["summary"])]
    assert bad.value.jira_status == 400 and bad.value.messages


async def test_rate_limit_and_server_errors_are_retried_within_bounds(
    sim: SimServer, agent: JiraClient
) -> None:
    _, (key,) = _project(sim, 1)
    path = f"/jira/rest/api/3/issue/{key}"
    try:
        await _fault(sim, path_prefix=path, kind="rate_limit", retry_after_s=1, count=1)
        await _fault(sim, path_prefix=path, kind="server_error", status=502, count=1)
        assert (await agent.get_issue(key))["key"] == key  # 429, then 502, then 200
        await _fault(sim, path_prefix=path, kind="server_error", count=None)
        with pytest.raises(JiraUnavailable):
            await agent.get_issue(key)
        await _clear(sim)
        await _fault(sim, path_prefix=path, kind="rate_limit", retry_after_s=60, count=1)
        with pytest.raises(JiraRateLimited) as limited:  # longer than we wait ourselves
            await agent.get_issue(key)
        assert limited.value.retry_after_s == 60
    finally:
        await _clear(sim)


async def test_dropped_connection_retried_for_reads_not_for_new_comments(
    sim: SimServer, agent: JiraClient
) -> None:
    _, (key,) = _project(sim, 1)
    try:
        await _fault(sim, path_prefix=f"/jira/rest/api/3/issue/{key}", kind="drop", method="GET")
        assert (await agent.get_issue(key))["key"] == key
        comment_path = f"/jira/rest/api/3/issue/{key}/comment"
        await _fault(sim, path_prefix=comment_path, kind="drop", method="POST")
        doc = {"type": "doc", "version": 1, "content": []}
        with pytest.raises(JiraUnavailable):  # the comment may exist: never post it twice
            await agent.add_comment(key, doc)
        await _fault(sim, path_prefix=comment_path, kind="server_error", status=503, method="POST")
        assert (await agent.add_comment(key, doc)).id  # 503: Jira did not act, retried
    finally:
        await _clear(sim)


async def test_auth_and_missing_issue_errors(sim: SimServer, agent: JiraClient) -> None:
    with pytest.raises(JiraNotFound):
        await agent.get_issue("NOPE-1")
    async with httpx.AsyncClient(auth=("agent@example.com", "wrong"), timeout=10) as http:
        with pytest.raises(JiraAuthFailed):
            await JiraClient(http, sim.url + "/jira", retry=FAST).myself()
    try:
        await _fault(sim, path_prefix="/jira/rest/api/3/myself", kind="expired_token")
        with pytest.raises(JiraAuthFailed):
            await agent.myself()
    finally:
        await _clear(sim)


def test_retry_after_header_forms() -> None:
    assert retry_after_s(httpx.Response(429, headers={"Retry-After": "7"})) == 7
    assert retry_after_s(httpx.Response(429)) is None
    past = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after_s(past) == 0
    assert retry_after_s(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_errors_survive_pickling_between_processes() -> None:
    import pickle

    from plugins.jira.errors import JiraBadRequest, JiraRateLimited

    limited = pickle.loads(pickle.dumps(JiraRateLimited("Jira rate-limited GET /x", 7.0)))
    assert (str(limited), limited.retry_after_s) == ("Jira rate-limited GET /x", 7.0)
    refused = pickle.loads(pickle.dumps(JiraBadRequest("refused", ["no"], 400)))
    assert (refused.messages, refused.jira_status) == (["no"], 400)
