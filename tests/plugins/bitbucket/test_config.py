"""config.py is the one source of the manifest's config_schema; the manifest stays honest."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from plugin_sdk import Manifest, ValidationFailed
from plugin_sdk.config import validate_config
from plugins.bitbucket.config import BitbucketConfig, config_schema
from plugins.bitbucket.events import RepoRef
from plugins.bitbucket.plugin import BitbucketPlugin


def test_manifest_schema_is_generated_from_config_py() -> None:
    manifest = json.loads(BitbucketPlugin.manifest_path().read_text(encoding="utf-8"))
    assert manifest["config_schema"] == config_schema(), (
        "manifest.json drifted from config.py: paste `python -m plugins.bitbucket.config` into it"
    )


def test_manifest_says_what_works_auth_kinds_and_events() -> None:
    manifest = BitbucketPlugin.load_manifest()
    assert "(preview): reviews pull requests" in manifest.description
    [job] = manifest.jobs  # the review runs on a sandbox worker
    assert job.kind == "review" and job.resources == {"sandbox": 1.0}
    assert [a.kind.value for a in manifest.auth] == [
        "api_token",
        "oauth2_authorization_code",
        "oauth2_client_credentials",
        "personal_access_token",
    ]
    assert manifest.webhook is not None and manifest.webhook.event_key == "header:X-Event-Key"
    assert manifest.events.emits == ["review.completed", "bitbucket.pr.merged"]
    assert "network:api.bitbucket.org" in manifest.permissions


def test_schema_and_model_accept_and_refuse_the_same() -> None:
    manifest: Manifest = BitbucketPlugin.load_manifest()
    good = {
        "repositories": ["acme/shop"],
        "review": {"severity_threshold": "medium", "analyzers": {"bandit": False}},
    }
    config = BitbucketConfig.model_validate(validate_config(manifest, good))
    assert config.api_url == "https://api.bitbucket.org"
    assert config.review.analyzers.tools() == ["semgrep", "ruff", "dataflow"]
    assert config.watches(RepoRef(owner="ACME", slug="Shop"))
    assert not config.watches(RepoRef(owner="acme", slug="other"))
    for bad in (
        {"deployment": "server"},
        {"repositories": ["no-slash"]},
        {"review": {"max_comments": -1}},
        {"review": {"typo": 1}},
        {"llm_min_confidence": 2},
    ):
        with pytest.raises(ValidationFailed):
            validate_config(manifest, bad)
        with pytest.raises(ValidationError):
            BitbucketConfig.model_validate(bad)


def test_data_center_needs_its_url() -> None:
    with pytest.raises(ValidationError, match="needs base_url"):
        BitbucketConfig.model_validate({"deployment": "dc"})
    dc = BitbucketConfig.model_validate({"deployment": "dc", "base_url": "https://bb.example.com/"})
    assert dc.api_url == "https://bb.example.com"
