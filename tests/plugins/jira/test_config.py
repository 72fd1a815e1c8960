"""config.py is the one source of the manifest's config_schema; the manifest stays honest."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from plugin_sdk import Manifest, ValidationFailed
from plugin_sdk.config import validate_config
from plugins.jira.config import JiraConfig, config_schema
from plugins.jira.plugin import JiraPlugin


def test_manifest_schema_is_generated_from_config_py() -> None:
    manifest = json.loads(JiraPlugin.manifest_path().read_text(encoding="utf-8"))
    assert manifest["config_schema"] == config_schema(), (
        "manifest.json drifted from config.py: paste `python -m plugins.jira.config` into it"
    )


def test_manifest_says_what_works_and_declares_auth_kinds() -> None:
    manifest = JiraPlugin.load_manifest()
    assert "answers @mentions" in manifest.description
    assert [a.kind.value for a in manifest.auth] == [
        "api_token",
        "personal_access_token",
        "oauth2_authorization_code",
    ]
    assert manifest.events.emits == ["jira.analysis.completed"]
    assert [j.kind for j in manifest.jobs] == ["sync-history", "fit-model"]
    assert manifest.jobs[1].resources == {"CPU": 0.5}  # the fit runs with workers=1
    assert [s.name for s in manifest.schedules] == ["sync-history"]


def test_schema_and_model_accept_and_refuse_the_same() -> None:
    manifest: Manifest = JiraPlugin.load_manifest()
    good = {"base_url": "https://acme.atlassian.net", "projects": ["SHOP"], "label": None}
    assert JiraConfig.model_validate(validate_config(manifest, good)).projects == ["SHOP"]
    for bad in (
        {"base_url": "acme.atlassian.net"},
        {"base_url": "https://x", "projects": ["shop"]},
        {"base_url": "https://x", "story_points_field": "points"},
        {"base_url": "https://x", "deployment": "server"},
        {"base_url": "https://x", "unknown": 1},
    ):
        with pytest.raises(ValidationError):
            JiraConfig.model_validate(bad)
        with pytest.raises(ValidationFailed):
            validate_config(manifest, bad)
