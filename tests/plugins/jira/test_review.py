"""``review.completed`` in the SDK harness against the simulator: one comment and one remote
link per linked issue (Cloud ADF, Data Center wiki), nothing again on a replay (same or new event
id), a new head commented again with the link updated in place, keys of other projects or
unknown issues skipped, a payload without a pull request refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plugin_sdk import PermanentError
from plugin_sdk.testing import PluginHarness
from plugins.jira.plugin import JiraPlugin
from plugins.jira.reviews import REVIEW_COMPLETED
from simulators.jira.state import JiraState
from tests.plugins.jira import sitekit as kit
from tests.plugins.jira.conftest import SimServer
from tests.simulators.contract import JIRA, assert_conforms, require_specs

SECRETS = {"webhook_secret": "s3cret"}
PR_URL = "https://bitbucket.example.com/acme/shop/pull-requests/7"


def _state(sim: SimServer, mount: str) -> JiraState:
    state: JiraState = sim.mounted(mount).state.jira
    return state


def review(keys: list[str], head: str = "a" * 40, url: str | None = PR_URL) -> dict[str, Any]:
    """A ``review.completed`` payload as the Bitbucket agent publishes it (plus a new field)."""
    return {
        "pull_request": {
            "flavour": "cloud", "repository": "acme/shop", "id": 7, "title": "Export invoices",
            "url": url, "source_branch": f"feature/{keys[0]}-export", "target_branch": "main",
            "head": head, "author": "Alice",
        },
        "jira_keys": keys, "result": "FAIL", "open_counts": {"high": 1, "medium": 2, "low": 0},
        "new": 3, "fixed": 1, "mode": "analyzers-only", "not_reviewed": 0,
        "summary_comment_id": 12, "a_field_added_later": True,
    }  # fmt: skip


async def _agent(sim: SimServer, mount: str, project: str) -> PluginHarness[JiraPlugin]:
    dc = mount == "/jira-dc"
    harness = PluginHarness(
        JiraPlugin,
        config={"base_url": sim.url + mount, "projects": [project], "use_llm": False,
                "deployment": "dc" if dc else "cloud"},
        secrets=SECRETS,
    )  # fmt: skip
    me = kit.account(sim.config, "dcoder-agent")
    if dc:
        harness.http.headers["Authorization"] = f"Bearer {me.pat}"
    else:
        harness.http.auth = httpx.BasicAuth(me.email, me.api_token)
    await harness.install()
    await harness.enable()
    return harness


@pytest.mark.parametrize("mount", ["/jira", "/jira-dc"])
async def test_each_linked_issue_gets_one_comment_and_one_link(sim: SimServer, mount: str) -> None:
    state = _state(sim, mount)
    project = kit.new_project(state)
    harness = await _agent(sim, mount, project)
    agent = kit.account(sim.config, "dcoder-agent")
    first, second = kit.story(state, project), kit.story(state, project, "Monthly report")
    keys = [first, second, "OTHER-1", f"{project}-999"]  # another project; no such issue
    await harness.event(REVIEW_COMPLETED, review(keys), source_plugin="bitbucket")
    await harness.event(REVIEW_COMPLETED, review(keys), source_plugin="bitbucket")  # replay
    for key in (first, second):
        [mine] = kit.agent_comments(state, key, agent)
        assert "dcoder review" in mine.body and "#7" in mine.body and "FAIL" in mine.body
        assert "1 high, 2 medium, 0 low" in mine.body and PR_URL in mine.body
        assert (mine.adf is not None) == (mount == "/jira")
        issue = state.issue(key)
        assert issue is not None
        [link] = issue.remote_links
        assert link["object"]["url"] == PR_URL and link["object"]["title"].startswith("acme/shop")
    # a new head: a new comment; the link (same globalId) is updated, not doubled
    await harness.event(REVIEW_COMPLETED, review([first], head="b" * 40))
    assert len(kit.agent_comments(state, first, agent)) == 2
    issue = state.issue(first)
    assert issue is not None and len(issue.remote_links) == 1
    await harness.aclose()


async def test_without_url_only_the_comment_and_bad_payloads_are_refused(sim: SimServer) -> None:
    state = _state(sim, "/jira")
    project = kit.new_project(state)
    harness = await _agent(sim, "/jira", project)
    key = kit.story(state, project)
    await harness.event(REVIEW_COMPLETED, review([key], url=None))
    [mine] = kit.agent_comments(state, key, kit.account(sim.config, "dcoder-agent"))
    issue = state.issue(key)
    assert issue is not None and issue.remote_links == [] and "Pull request:" not in mine.body
    with pytest.raises(PermanentError, match="no usable payload"):
        await harness.event(REVIEW_COMPLETED, {"jira_keys": [key]})
    assert len(kit.agent_comments(state, key, kit.account(sim.config, "dcoder-agent"))) == 1
    await harness.aclose()


async def test_the_simulator_refuses_a_link_without_url(sim: SimServer) -> None:
    state = _state(sim, "/jira")
    key = kit.story(state, kit.new_project(state))
    me = kit.account(sim.config, "dcoder-agent")
    async with httpx.AsyncClient(auth=httpx.BasicAuth(me.email, me.api_token)) as http:
        url = f"{sim.url}/jira/rest/api/3/issue/{key}/remotelink"
        refused = await http.post(url, json={"object": {"title": "x"}})
        assert refused.status_code == 400 and refused.json()["errors"] == {
            "url": "'url' is required."
        }
        made = await http.post(url, json={"globalId": "g", "object": {"title": "x", "url": "u"}})
        again = await http.post(url, json={"globalId": "g", "object": {"title": "y", "url": "u"}})
        assert (made.status_code, again.status_code) == (201, 200)
        assert made.json()["id"] == again.json()["id"]
        listed = (await http.get(url)).json()
        assert [link["object"]["title"] for link in listed] == ["y"]
        require_specs()  # the answers as the official spec documents them
        template = "/rest/api/3/issue/{issueIdOrKey}/remotelink"
        assert_conforms(JIRA, "post", template, 201, made.json())
        one = (await http.get(url, params={"globalId": "g"})).json()
        assert_conforms(JIRA, "get", template, 200, one)  # the schema: one link (globalId)


def test_the_bitbucket_agents_payload_is_read_as_published() -> None:
    """The Bitbucket agent's own model, dumped as it publishes it, parses here (compatibility)."""
    from plugins.bitbucket.findings import Severity
    from plugins.bitbucket.outcome import PullRequestRef, ReviewCompleted
    from plugins.jira.reviews import ReviewCompleted as Read

    pr = PullRequestRef(flavour="dc", repository="PROJ/shop", id=3, title="t", url=None,
                        source_branch="feature/SHOP-1", target_branch="main", head="d" * 40,
                        author="Alice")  # fmt: skip
    sent = ReviewCompleted(pull_request=pr, jira_keys=["SHOP-1"], result="PASS",
                           open_counts=dict.fromkeys(Severity, 0), new=0, fixed=2,
                           mode="llm", summary_comment_id=5)  # fmt: skip
    read = Read.model_validate(sent.model_dump(mode="json"))
    assert read.jira_keys == ["SHOP-1"] and read.fixed == 2 and read.open_counts["high"] == 0
    assert read.step == f"review/dc:PROJ/shop#3@{'d' * 40}"
