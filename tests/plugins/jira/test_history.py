"""The history sync's query and its incremental, resumable pulls (harness + simulator)."""

from __future__ import annotations

import httpx
import pytest

from plugin_sdk.memory import MemoryKeyValueStore
from plugin_sdk.testing import PluginHarness
from plugins.jira import history
from plugins.jira.client import JiraClient
from plugins.jira.plugin import SITE_KEY, JiraPlugin
from plugins.jira.sync_job import FITTED_KEY
from simulators.jira.state import JiraState
from tests.plugins.jira import sitekit as kit
from tests.plugins.jira.conftest import SimServer


def test_query_is_incremental_with_a_day_of_overlap() -> None:
    jql = history.history_jql("customfield_10016", ["SHOP", "OPS"], "2026-12-07T05:00:00.000+0000")
    assert jql == (
        "project in (SHOP, OPS) AND resolution is not EMPTY AND cf[10016] is not EMPTY"
        ' AND updated >= "2026/12/06 05:00" ORDER BY updated ASC'
    )
    assert history.history_jql("customfield_1", [], None) == (
        "resolution is not EMPTY AND cf[1] is not EMPTY ORDER BY updated ASC"
    )


async def test_second_sync_adds_only_what_changed_and_refits(sim: SimServer) -> None:
    state: JiraState = sim.mounted("/jira").state.jira
    project = kit.new_project(state)
    kit.history(state, project, 12)
    harness = PluginHarness(JiraPlugin, secrets={"webhook_secret": "s"}, config={
        "base_url": sim.url + "/jira", "projects": [project], "min_history": 10})  # fmt: skip
    me = kit.account(sim.config, "dcoder-agent")
    harness.http.auth = httpx.BasicAuth(me.email, me.api_token)
    await harness.install()
    await harness.enable()  # submits the first sync as a job
    assert await kit.settle_jobs(harness) == ["sync-history", "fit-model"]  # 12 stories, a fit
    assert (await history.read_meta(harness.store)).count == 12
    kit.history(state, project, 15)  # 15 more issues
    kit.story(state, project)  # open, no points: never part of the history
    await harness.tick("sync-history")
    assert await kit.settle_jobs(harness) == ["sync-history", "fit-model"]
    meta = await history.read_meta(harness.store)
    assert meta.count == 27 and await harness.store.get(FITTED_KEY) == 27
    assert harness.jobs[2].result["added"] == 15 and harness.jobs[2].result["complete"]
    assert len(await history.load(harness.store)) == 27
    await harness.tick("sync-history")  # nothing changed: a sync, no fit
    assert await kit.settle_jobs(harness) == ["sync-history"]
    assert harness.jobs[-1].result["added"] == 0
    await harness.aclose()


async def test_a_failed_sync_is_said_on_health_until_the_next_one_works(sim: SimServer) -> None:
    state: JiraState = sim.mounted("/jira").state.jira
    project = kit.new_project(state)
    harness = PluginHarness(JiraPlugin, secrets={"webhook_secret": "s"}, config={
        "base_url": sim.url + "/jira", "projects": [project], "min_history": 5})  # fmt: skip
    me = kit.account(sim.config, "dcoder-agent")
    harness.http.auth = httpx.BasicAuth(me.email, me.api_token)
    await harness.install()
    await harness.enable()
    await harness.store.delete(SITE_KEY)  # as if the job ran for an instance never checked
    await harness.run_jobs()
    assert harness.jobs[0].status == "failed" and "not checked yet" in str(harness.jobs[0].error)
    await harness.plugin.site()  # checked again (as the next tick does)
    assert "last sync failed: PermanentError" in (await harness.health()).detail
    await harness.tick("sync-history")  # the tick checks the site again, the sync works
    assert await kit.settle_jobs(harness) == ["sync-history"]
    assert "last sync failed" not in (await harness.health()).detail
    await harness.aclose()


async def test_a_sync_cut_short_continues_where_its_last_write_stopped(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "WRITE_BATCH", 5)  # a write per 5 issues instead of 1,000
    state: JiraState = sim.mounted("/jira").state.jira
    project = kit.new_project(state)
    kit.history(state, project, 12)
    me = kit.account(sim.config, "dcoder-agent")
    async with httpx.AsyncClient(auth=httpx.BasicAuth(me.email, me.api_token)) as http:
        client = JiraClient(http, sim.url + "/jira")
        fields = await client.discover_fields(project)
        store = MemoryKeyValueStore()
        meta = await history.sync(client, store, fields, [project], budget_s=0)
        assert (meta.count, meta.complete) == (5, False)  # stopped after its first write
        assert (await history.read_meta(store)).since == meta.since
        meta = await history.sync(client, store, fields, [project])
        assert (meta.count, meta.complete) == (12, True)
        assert len(await history.load(store)) == 12
