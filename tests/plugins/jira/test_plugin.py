"""JiraPlugin in the SDK harness against the simulator: configure as the agent's own account,
field discovery, and which comments count as requests (real comment_created shape)."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.settings import Settings
from plugin_sdk import PluginAuthFailed, PluginConfigInvalid
from plugin_sdk.testing import PluginHarness
from plugins.jira.plugin import SITE_KEY, JiraPlugin, Site
from simulators.auth import accounts
from tests.plugins.jira.conftest import SimServer

SECRETS = {"webhook_secret": "s3cret"}


def _account(sim: SimServer, username: str) -> Any:
    return next(a for a in accounts(sim.config) if a.username == username)


async def _harness(
    sim: SimServer, username: str = "dcoder-agent", **config: Any
) -> PluginHarness[JiraPlugin]:
    harness = PluginHarness(
        JiraPlugin, config={"base_url": sim.url + "/jira", **config}, secrets=SECRETS
    )
    me = _account(sim, username)
    harness.http.auth = httpx.BasicAuth(me.email, me.api_token)  # what the platform attaches
    return harness


@pytest.fixture
async def agent(sim: SimServer) -> AsyncIterator[PluginHarness[JiraPlugin]]:
    harness = await _harness(sim)
    await harness.install()
    await harness.enable()
    yield harness
    await harness.aclose()


def _comment_created(body: str, author_id: str) -> dict[str, Any]:
    """The real Cloud capture from the shared contracts, with our body and author."""
    path = Settings().contracts_dir / "webhooks" / "jira-cloud" / "comment_created.json"
    if not path.is_file():
        pytest.skip(f"contracts not present at {path}")
    payload = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    payload["comment"]["body"] = body
    payload["comment"]["author"]["accountId"] = author_id
    return payload


async def test_configure_records_the_agent_and_the_discovered_field(
    sim: SimServer, agent: PluginHarness[JiraPlugin]
) -> None:
    site = Site.model_validate(await agent.store.get(SITE_KEY))
    assert site.agent.account_id == _account(sim, "dcoder-agent").account_id
    assert site.agent_name == "dcoder Agent" and site.deployment_type == "Cloud"
    assert site.fields.story_points == sim.mounted("/jira").state.jira.story_points_id
    health = (await agent.plugin.health()).detail
    assert "stories with points" in health and "webhook not registered" in health


async def test_install_registers_the_webhook_once_when_the_service_url_is_known(
    sim: SimServer,
) -> None:
    harness = await _harness(sim, service_url="https://dcoder.example.com")
    await harness.install()
    await harness.enable()
    hook: dict[str, Any] = await harness.store.get("webhook") or {}
    url = "https://dcoder.example.com/v1/webhooks/tenant-test/instance-test"
    assert hook["url"] == url
    state = sim.mounted("/jira").state.jira
    registered = [w for w in state.webhooks.values() if w.url == url]
    assert len(registered) == 1 and registered[0].events == ["comment_created"]
    assert registered[0].secret == SECRETS["webhook_secret"]
    assert f"webhook {hook['id']} registered" in (await harness.health()).detail
    await harness.disable()
    await harness.uninstall()
    assert all(w.url != url for w in state.webhooks.values())
    await harness.aclose()


async def test_configure_before_credentials_checks_later(sim: SimServer) -> None:
    harness = await _harness(sim)
    harness.http.auth = httpx.BasicAuth("", "")  # the service: credentials come after install
    await harness.install()
    assert await harness.store.get(SITE_KEY) is None
    me = _account(sim, "dcoder-agent")
    harness.http.auth = httpx.BasicAuth(me.email, me.api_token)
    await harness.enable()  # checks the site now
    assert Site.model_validate(await harness.store.get(SITE_KEY)).agent.account_id == me.account_id
    await harness.aclose()


async def test_no_mention_own_comment_and_other_events_are_ignored(
    sim: SimServer, agent: PluginHarness[JiraPlugin]
) -> None:
    me = _account(sim, "dcoder-agent").account_id
    alice = _account(sim, "alice").account_id
    await agent.webhook(body=_comment_created("no mention here", alice))
    await agent.webhook(body=_comment_created(f"[~accountid:{me}] my own answer", me))
    await agent.webhook(body={"webhookEvent": "jira:issue_updated", "issue": {"key": "X-1"}})
    assert agent.published_events == []


async def test_wrong_credentials_wrong_deployment_and_not_a_site(sim: SimServer) -> None:
    wrong = await _harness(sim)
    wrong.http.auth = httpx.BasicAuth("agent@example.com", "not-the-token")
    await wrong.ctx.credentials.put("api_token", {"email": "agent@example.com", "token": "x"})
    with pytest.raises(PluginAuthFailed):
        await wrong.install()
    await wrong.aclose()
    dc = await _harness(sim, deployment="dc")
    with pytest.raises(PluginConfigInvalid, match="set deployment to 'cloud'"):
        await dc.install()
    await dc.aclose()
    nowhere = await _harness(sim)
    nowhere_cfg = {"base_url": sim.url + "/nothing-here"}
    with pytest.raises(PluginConfigInvalid, match="is not a Jira site"):
        await nowhere.configure(nowhere_cfg)
    await nowhere.aclose()


async def test_override_field(sim: SimServer) -> None:
    harness = await _harness(sim, story_points_field="customfield_10001")
    await harness.install()
    site = Site.model_validate(await harness.store.get(SITE_KEY))
    assert site.fields.story_points == "customfield_10001"
    await harness.aclose()


async def test_data_center_site_knows_the_agent_by_user_name(sim: SimServer) -> None:
    harness = PluginHarness(
        JiraPlugin,
        config={"base_url": sim.url + "/jira-dc", "deployment": "dc"},
        secrets=SECRETS,
    )
    agent_pat = _account(sim, "dcoder-agent").pat
    harness.http.headers["Authorization"] = f"Bearer {agent_pat}"  # the platform's PAT auth
    await harness.install()
    await harness.enable()
    site = Site.model_validate(await harness.store.get(SITE_KEY))
    assert (site.agent.username, site.agent.account_id) == ("dcoder-agent", None)
    assert site.deployment_type == "Server"
    payload = _comment_created("[~dcoder-agent] split", "ignored")
    payload["comment"]["author"] = {"name": "dcoder-agent", "key": "dcoder-agent"}
    await harness.webhook(body=payload)  # its own comment: nothing
    assert harness.published_events == []
    await harness.aclose()
