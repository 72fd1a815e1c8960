"""Every built-in plugin's manifest: parses, name = folder, semver, config schema valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from plugin_sdk import Manifest
from plugin_sdk.version import is_semver
from plugins.loading import BUILTIN_DIR

MANIFESTS = sorted(BUILTIN_DIR.glob("*/manifest.json"))


def test_there_are_built_in_plugins() -> None:
    assert any(p.parent.name == "generic_webhook" for p in MANIFESTS)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.parent.name)
def test_manifest_matches_its_folder(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    manifest = Manifest.model_validate(raw)
    assert manifest.name.replace("-", "_") == path.parent.name
    assert is_semver(manifest.version)
    Draft202012Validator.check_schema(manifest.config_schema)
    assert manifest.supports_sdk()
    assert (path.parent / "plugin.py").is_file() and (path.parent / "config.py").is_file()
