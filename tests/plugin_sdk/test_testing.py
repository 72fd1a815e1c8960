from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from plugin_sdk import (
    Conflict,
    HealthStatus,
    InstanceState,
    PermanentError,
    PluginAuthFailed,
    PluginConfigInvalid,
    ValidationFailed,
)
from plugin_sdk.testing import PluginHarness
from tests.plugin_sdk.sample_plugin.plugin import SamplePlugin

SECRETS = {"api_token": "t0ken"}


@pytest.fixture
async def harness() -> AsyncIterator[PluginHarness[SamplePlugin]]:
    async with PluginHarness(SamplePlugin, config={"project_key": "ACME"}, secrets=SECRETS) as h:
        yield h


async def test_lifecycle_in_order(harness: PluginHarness[SamplePlugin]) -> None:
    assert (await harness.health()).status is HealthStatus.DEGRADED
    await harness.install()
    assert harness.state is InstanceState.INSTALLED
    await harness.enable()
    await harness.event("review.completed", {"pr": 1}, correlation_id="c-1")
    await harness.event("review.started")
    assert [e.data["count"] for e in harness.published_events] == [1, 2]
    assert harness.published_events[0].correlation_id == "c-1"
    assert (await harness.health()).status is HealthStatus.OK
    await harness.disable()
    await harness.uninstall()
    assert harness.state is InstanceState.UNINSTALLED
    assert await harness.store.get("installed") is None


async def test_hooks_out_of_order_conflict(harness: PluginHarness[SamplePlugin]) -> None:
    with pytest.raises(Conflict, match="cannot enable an instance that is new"):
        await harness.enable()
    await harness.install()
    with pytest.raises(Conflict, match="cannot handle_event an instance that is installed"):
        await harness.event("review.completed")
    await harness.enable()
    with pytest.raises(Conflict, match="cannot uninstall an instance that is enabled"):
        await harness.uninstall()


async def test_events_outside_consumes_and_webhooks_without_capability(
    harness: PluginHarness[SamplePlugin],
) -> None:
    await harness.install()
    await harness.enable()
    with pytest.raises(PermanentError, match="does not consume 'jira.issue.created'"):
        await harness.event("jira.issue.created")
    with pytest.raises(PermanentError, match="no 'webhooks' capability"):
        await harness.webhook(body={})


async def test_configure_checks_then_swaps(harness: PluginHarness[SamplePlugin]) -> None:
    await harness.install()
    with pytest.raises(PluginConfigInvalid, match="NOPE does not exist"):
        await harness.configure({"project_key": "NOPE"})
    with pytest.raises(PluginAuthFailed):
        await harness.configure(secrets={"api_token": "revoked"})
    with pytest.raises(ValidationFailed) as caught:
        await harness.configure({"project_key": ""})
    assert caught.value.extra["errors"][0]["pointer"] == "/project_key"
    assert harness.plugin.config.project_key == "ACME"  # failed attempts changed nothing
    await harness.configure({"project_key": "NEW"})
    assert harness.plugin.config.project_key == "NEW"


async def test_install_runs_configure_first() -> None:
    async with PluginHarness(SamplePlugin, config={"project_key": "NOPE"}, secrets=SECRETS) as h:
        with pytest.raises(PluginConfigInvalid):
            await h.install()
        assert h.state is InstanceState.NEW


async def test_upgrade_migrates_the_old_config(harness: PluginHarness[SamplePlugin]) -> None:
    await harness.install()
    new_config = await harness.upgrade("1.4.0", {"project": "OLD"})
    assert new_config == {"project_key": "OLD"}
    assert harness.ctx.config == {"project_key": "OLD"}


def test_constructor_validates_config_and_secrets() -> None:
    with pytest.raises(ValidationFailed, match="secrets"):
        PluginHarness(SamplePlugin, config={"project_key": "A"}, secrets={})
    with pytest.raises(ValidationFailed, match="config"):
        PluginHarness(SamplePlugin, config={"project_key": 3}, secrets=SECRETS)
