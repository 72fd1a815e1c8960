"""A plugin cannot declare the platform's own events in ``emits`` (it could spoof job ends and
schedule ticks, which handlers trust): refused at registration with PluginValidationError."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.bus import JOB_COMPLETED, JOB_FAILED, SCHEDULE_FIRED
from plugin_sdk import Manifest, PluginValidationError
from plugins.registry import PluginRegistry
from tests.plugin_sdk.test_manifest import manifest
from tests.plugins.test_registry import write_plugin


@pytest.mark.parametrize(
    "emits",
    [JOB_COMPLETED, JOB_FAILED, SCHEDULE_FIRED, "job.>", "schedule.anything", "*.completed", ">"],
)
def test_platform_event_types_cannot_be_emitted(emits: str) -> None:
    with pytest.raises(ValidationError, match="reserved"):
        Manifest.model_validate(manifest(events={"emits": [emits]}))


@pytest.mark.parametrize("emits", ["jobs.done", "scheduler.fired", "acme.job.completed"])
def test_names_that_only_look_alike_are_allowed(emits: str) -> None:
    assert Manifest.model_validate(manifest(events={"emits": [emits]})).events.emits == [emits]


def test_consuming_platform_events_is_allowed() -> None:
    parsed = Manifest.model_validate(manifest(events={"consumes": [JOB_COMPLETED, "schedule.*"]}))
    assert parsed.events.consumes == [JOB_COMPLETED, "schedule.*"]


def test_a_spoofing_plugin_is_refused_at_registration(tmp_path: Path) -> None:
    path = write_plugin(
        tmp_path, "spoofer", capabilities=["webhooks", "events"],
        events={"emits": ["spoofer.ok", JOB_COMPLETED]},
    )  # fmt: skip
    registry = PluginRegistry()
    report = registry.load_path(path, into=tmp_path / "unpacked")
    assert not report.loaded and "spoofer" not in registry.names()
    with pytest.raises(PluginValidationError) as caught:
        report.raise_for_refused()
    assert "events.emits" in caught.value.why and "reserved" in caught.value.why
