"""The mention flow in the SDK harness against the simulator (Cloud and Data Center): one comment
by the agent, the field and label set, the event, nothing twice; history sync and the fit job;
split confirm; help; a field update failing after the comment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from plugin_sdk import RetryableError
from plugin_sdk.memory import ScriptedLlm
from plugin_sdk.testing import PluginHarness
from plugins.jira import fit_job, history
from plugins.jira.plugin import COMPLETED, JiraPlugin
from simulators.jira.state import JiraState
from tests.plugins.jira import sitekit as kit
from tests.plugins.jira.conftest import SimServer

SECRETS = {"webhook_secret": "s3cret"}


def _state(sim: SimServer, mount: str = "/jira") -> JiraState:
    state: JiraState = sim.mounted(mount).state.jira
    return state


async def _agent(
    sim: SimServer, project: str, llm: Any = None, **config: Any
) -> PluginHarness[JiraPlugin]:
    harness = PluginHarness(
        JiraPlugin,
        config={"base_url": sim.url + "/jira", "projects": [project], "use_llm": False, **config},
        secrets=SECRETS,
        llm=llm,
    )
    me = kit.account(sim.config, "dcoder-agent")
    harness.http.auth = httpx.BasicAuth(me.email, me.api_token)  # what the platform attaches
    await harness.install()
    await harness.enable()
    return harness


@pytest.fixture
async def site(sim: SimServer) -> AsyncIterator[tuple[str, PluginHarness[JiraPlugin]]]:
    project = kit.new_project(_state(sim))
    harness = await _agent(sim, project, min_history=5)
    yield project, harness
    await harness.aclose()


async def _mention(sim: SimServer, harness: PluginHarness[JiraPlugin], key: str, word: str,
                   who: str = "alice") -> Any:  # fmt: skip
    agent = kit.account(sim.config, "dcoder-agent")
    made = kit.comment(sim.url + "/jira", kit.account(sim.config, who), key,
                       f"[~accountid:{agent.account_id}] {word}")  # fmt: skip
    return await harness.webhook(body=kit.comment_created(made, key))


async def test_a_mention_is_answered_once_without_history(
    sim: SimServer, site: tuple[str, PluginHarness[JiraPlugin]]
) -> None:
    project, harness = site
    state, agent = _state(sim), kit.account(sim.config, "dcoder-agent")
    key = kit.story(state, project)
    delivery = await _mention(sim, harness, key, "")
    await harness.redeliver(delivery)
    mine = kit.agent_comments(state, key, agent)
    assert len(mine) == 1 and mine[0].adf is not None  # Cloud: an ADF document
    assert "No number:" in mine[0].body and "too little history: 0 resolved" in mine[0].body
    assert "deterministic rules, no LLM" in mine[0].body
    issue = state.issue(key)
    assert issue is not None and issue.fields[state.story_points_id] is None
    assert "ai-estimated" not in issue.fields["labels"]  # no estimate, nothing written
    [event] = harness.published_events
    assert event.subject == COMPLETED and event.data["issue"] == key
    assert event.data["points"] is None and event.data["comment_id"] == mine[0].id


async def test_history_sync_fit_job_and_an_estimate_sets_field_and_label(
    sim: SimServer, site: tuple[str, PluginHarness[JiraPlugin]]
) -> None:
    project, harness = site
    state, agent = _state(sim), kit.account(sim.config, "dcoder-agent")
    kit.history(state, project, 60)
    await harness.tick("sync-history")  # supersedes the sync enable queued (same key)
    [sync] = harness.job_queue.queued()
    assert (sync.submission.kind, sync.submission.key) == ("sync-history", "sync-history")
    await harness.run_jobs()  # the sync; its job.completed submits the fit
    meta = await history.read_meta(harness.store)
    assert meta.count == 60 and meta.complete and sync.result["added"] == 60
    [job] = harness.job_queue.queued()
    assert job.submission.kind == "fit-model" and job.submission.payload == {"history": 60}
    await harness.run_jobs()  # the job reads the history from the store and writes the model
    assert job.result is not None and job.result["stories"] == 60 and "model" not in job.result
    assert await fit_job.fitted_stories(harness.store) == 60
    await harness.tick("sync-history")  # nothing new: a sync, no second fit
    assert await kit.settle_jobs(harness) == ["sync-history"]
    key = kit.story(state, project)
    await _mention(sim, harness, key, "estimate")
    [answer] = kit.agent_comments(state, key, agent)
    assert "story points" in answer.body and "from 60 past stories" in answer.body
    issue = state.issue(key)
    assert issue is not None and issue.fields[state.story_points_id] is not None
    assert "ai-estimated" in issue.fields["labels"]
    [event] = harness.published_events
    assert event.data["points"] == issue.fields[state.story_points_id]


async def test_own_comment_no_mention_and_other_projects_are_ignored(
    sim: SimServer, site: tuple[str, PluginHarness[JiraPlugin]]
) -> None:
    project, harness = site
    state, agent = _state(sim), kit.account(sim.config, "dcoder-agent")
    key = kit.story(state, project)
    await _mention(sim, harness, key, "estimate", who="dcoder-agent")
    plain = kit.comment(sim.url + "/jira", kit.account(sim.config, "alice"), key, "no mention")
    await harness.webhook(body=kit.comment_created(plain, key))
    other = kit.story(state, kit.new_project(state))
    await _mention(sim, harness, other, "estimate")
    assert kit.agent_comments(state, other, agent) == []
    assert len(kit.agent_comments(state, key, agent)) == 1  # only its own, by the test
    assert harness.published_events == []


async def test_field_update_failing_after_the_comment_is_retried_without_a_second_comment(
    sim: SimServer, site: tuple[str, PluginHarness[JiraPlugin]]
) -> None:
    project, harness = site
    state, agent = _state(sim), kit.account(sim.config, "dcoder-agent")
    kit.history(state, project, 30)
    await harness.tick("sync-history")
    await kit.settle_jobs(harness)
    key = kit.story(state, project)
    mention = kit.comment(sim.url + "/jira", kit.account(sim.config, "alice"), key,
                          f"[~accountid:{agent.account_id}] estimate")  # fmt: skip
    delivery = harness.make_delivery(kit.comment_created(mention, key))
    kit.fault(sim.url, path_prefix=f"/jira/rest/api/3/issue/{key}", method="PUT",
              kind="server_error", status=500, count=None)  # fmt: skip
    try:
        with pytest.raises(RetryableError, match="500"):
            await harness.redeliver(delivery)
    finally:
        kit.clear_faults(sim.url)
    assert len(kit.agent_comments(state, key, agent)) == 1  # posted before the update failed
    issue = state.issue(key)
    assert issue is not None and "ai-estimated" not in issue.fields["labels"]
    await harness.redeliver(delivery)  # the relay's retry
    assert len(kit.agent_comments(state, key, agent)) == 1
    assert "ai-estimated" in issue.fields["labels"]
    assert issue.fields[state.story_points_id] is not None
    assert len(harness.published_events) == 1


async def test_split_confirm_creates_sub_tasks_once_and_help_answers_unknown_words(
    sim: SimServer, site: tuple[str, PluginHarness[JiraPlugin]]
) -> None:
    project, harness = site
    state, agent = _state(sim), kit.account(sim.config, "dcoder-agent")
    key = kit.story(state, project, "Export invoices and import customers")
    delivery = await _mention(sim, harness, key, "split confirm")
    await harness.redeliver(delivery)
    children = [i for i in state.issues.values() if i.fields.get("parent") == key]
    assert len(children) >= 2 and all(c.fields["issuetype"] == "10004" for c in children)
    [answer] = kit.agent_comments(state, key, agent)
    assert "Created as sub-tasks: " + children[0].key in answer.body
    await _mention(sim, harness, key, "dance")
    helped = kit.agent_comments(state, key, agent)[-1]
    assert "commands" in helped.body and len(kit.agent_comments(state, key, agent)) == 2
    assert "I don't know the command 'dance'." in helped.body


async def test_llm_answer_is_used_and_a_malformed_one_falls_back(sim: SimServer) -> None:
    state, agent = _state(sim), kit.account(sim.config, "dcoder-agent")
    project = kit.new_project(state)
    llm = ScriptedLlm(["{not json", '{"truncated": '])
    harness = await _agent(sim, project, use_llm=True, llm=llm)
    key = kit.story(state, project)
    await _mention(sim, harness, key, "analyze")
    [answer] = kit.agent_comments(state, key, agent)
    assert "deterministic rules, no LLM. the LLM's answer was unusable twice" in answer.body
    assert len(llm.prompts) == 2
    await harness.aclose()


async def test_data_center_answers_in_wiki_markup(sim: SimServer) -> None:
    state = _state(sim, "/jira-dc")
    project = kit.new_project(state)
    harness = PluginHarness(
        JiraPlugin,
        config={"base_url": sim.url + "/jira-dc", "deployment": "dc", "projects": [project],
                "use_llm": False},
        secrets=SECRETS,
    )  # fmt: skip
    agent, alice = kit.account(sim.config, "dcoder-agent"), kit.account(sim.config, "alice")
    harness.http.headers["Authorization"] = f"Bearer {agent.pat}"
    await harness.install()
    await harness.enable()
    key = kit.story(state, project)
    made = kit.comment(sim.url + "/jira-dc", alice, key, "[~dcoder-agent] analyze", dc=True)
    assert made["author"]["name"] == "alice"
    await harness.webhook(body=kit.comment_created(made, key))
    [answer] = kit.agent_comments(state, key, agent)
    assert answer.adf is None and answer.body.startswith(f"h3. dcoder agent on {key}")
    await harness.aclose()
