"""Registry: verification at load, refusals with reasons, versions, catalog, config checks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from core.errors import NotFound, PluginValidationError, ValidationFailed
from plugins.registry import PluginRegistry

PLUGIN_PY = """
from plugin_sdk import Plugin, WebhookDelivery

class {cls}(Plugin):
    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        pass
"""


def write_plugin(parent: Path, folder: str, *, code: str | None = None, **manifest: Any) -> Path:
    """A plugin package folder: __init__.py, manifest.json, plugin.py."""
    root = parent / folder
    root.mkdir(parents=True)
    (root / "__init__.py").write_text("")
    body: dict[str, Any] = {
        "name": folder.replace("_", "-"),
        "version": "1.0.0",
        "sdk_api": ">=1.0,<2",
        "description": "test plugin",
        "capabilities": ["webhooks"],
        "webhook": {"scheme": "none"},
        "config_schema": {
            "type": "object",
            "properties": {"project_key": {"type": "string"}},
            "required": ["project_key"],
        },
    }
    body.update(manifest)
    (root / "manifest.json").write_text(json.dumps(body))
    (root / "plugin.py").write_text(textwrap.dedent(code or PLUGIN_PY.format(cls="P")))
    return root


def refusal(registry: PluginRegistry, path: Path) -> str:
    report = registry.load_path(path, into=path.parent / "unpacked")
    assert not report.loaded and len(report.refused) == 1
    with pytest.raises(PluginValidationError):
        report.raise_for_refused()
    return report.refused[0].why


def test_builtins_load(tmp_path: Path) -> None:
    registry = PluginRegistry()
    report = registry.discover()
    assert "generic-webhook" in registry.names()
    assert all(r.plugin != "generic-webhook" for r in report.refused)
    assert registry.latest("generic-webhook").origin == "builtin:plugins.generic_webhook"


def test_directory_plugin_loads(tmp_path: Path) -> None:
    registry = PluginRegistry()
    report = registry.load_path(write_plugin(tmp_path, "dir_ok"), into=tmp_path / "x")
    assert [(e.name, e.version) for e in report.loaded] == [("dir-ok", "1.0.0")]
    assert registry.get("dir-ok", "1.0.0").plugin_cls.__name__ == "P"


@pytest.mark.parametrize(
    ("folder", "kwargs", "why"),
    [
        ("bad_semver", {"version": "1.0"}, "not a semantic version"),
        ("bad_key", {"colour": "red"}, "colour: Extra inputs are not permitted"),
        ("bad_schema", {"config_schema": {"type": "object", "minProperties": -1}}, "JSON Schema"),
        ("future_sdk", {"sdk_api": ">=2,<3"}, "does not include this SDK's API 1.0"),
        ("misnamed", {"name": "other-name"}, "does not match 'misnamed'"),
        (
            "no_handler",
            {"code": "from plugin_sdk import Plugin\nclass P(Plugin): pass\n"},
            "needs a handle_webhook hook",
        ),
        (
            "sync_hook",
            {"code": PLUGIN_PY.format(cls="P") + "    def health(self): pass\n"},
            "hook 'health' must be 'async def'",
        ),
        (
            "two_classes",
            {"code": PLUGIN_PY.format(cls="A") + PLUGIN_PY.format(cls="B")},
            "exactly one Plugin subclass (found A, B)",
        ),
        (
            "import_boom",
            {"code": "raise RuntimeError('boom at import')"},
            "import failed: RuntimeError: boom at import",
        ),
        ("exits", {"code": "import sys\nsys.exit(3)"}, "import failed: SystemExit: 3"),
    ],
)
def test_broken_plugins_are_refused_with_the_reason(
    tmp_path: Path, folder: str, kwargs: dict[str, Any], why: str
) -> None:
    registry = PluginRegistry()
    found = refusal(registry, write_plugin(tmp_path, folder, **kwargs))
    assert why in found
    assert registry.refused[0].why == found
    assert registry.names() == []
    [entry] = registry.catalog()
    assert entry.status == "refused" and entry.refused[0].why == found


def test_a_path_that_is_no_plugin(tmp_path: Path) -> None:
    registry = PluginRegistry()
    assert "neither pyproject.toml nor manifest.json" in refusal(registry, tmp_path)
    (tmp_path / "junk.whl").write_bytes(b"not a zip")
    assert "not a wheel file name" in refusal(registry, tmp_path / "junk.whl")


def test_versions_latest_and_catalog(tmp_path: Path) -> None:
    registry = PluginRegistry()
    for version in ["1.0.0", "1.10.0", "1.2.0", "2.0.0-rc.1"]:
        path = write_plugin(tmp_path / version, "multi", version=version)
        registry.load_path(path, into=tmp_path / "x").raise_for_refused()
    assert registry.versions("multi") == ["1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1"]
    assert registry.latest("multi").version == "1.10.0"  # releases win over a pre-release
    # each version is its own module: two versions coexist
    classes = {registry.get("multi", v).plugin_cls for v in registry.versions("multi")}
    assert len(classes) == 4
    [entry] = [e for e in registry.catalog() if e.name == "multi"]
    assert entry.status == "ok" and entry.latest == "1.10.0"
    assert entry.capabilities == ["webhooks"] and "project_key" in entry.config_schema["properties"]
    assert [d.version for d in entry.details] == entry.versions
    registry.remove("multi", "1.10.0")
    assert registry.latest("multi").version == "1.2.0"
    with pytest.raises(NotFound):
        registry.get("multi", "9.9.9")
    with pytest.raises(NotFound):
        registry.latest("nothing")


def test_same_version_from_another_source_is_refused(tmp_path: Path) -> None:
    registry = PluginRegistry()
    first = write_plugin(tmp_path / "a", "dupe")
    registry.load_path(first, into=tmp_path / "x").raise_for_refused()
    assert registry.load_path(first, into=tmp_path / "x").loaded  # same source: idempotent
    why = refusal(registry, write_plugin(tmp_path / "b", "dupe"))
    assert "version 1.0.0 is already loaded from directory:" in why


def test_validate_config_points_at_fields(tmp_path: Path) -> None:
    registry = PluginRegistry()
    registry.load_path(write_plugin(tmp_path, "cfg"), into=tmp_path / "x")
    assert registry.validate_config("cfg", "1.0.0", {"project_key": "A"}) == {"project_key": "A"}
    with pytest.raises(ValidationFailed) as caught:
        registry.validate_config("cfg", "1.0.0", {"project_key": 1})
    assert caught.value.extra["errors"][0]["pointer"] == "/project_key"


def test_entry_points_of_installed_distributions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    write_plugin(site, "ep_plugin", version="0.3.0")
    write_plugin(site, "ep_broken", sdk_api=">=9")
    info = site / "ep_plugin-0.3.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-plugin\nVersion: 0.3.0\n")
    (info / "entry_points.txt").write_text(
        "[dcoder_integrations.plugins]\n"
        "ep-plugin = ep_plugin.plugin:P\n"
        "ep-broken = ep_broken.plugin:P\n"
        "ep-missing = ep_missing.plugin:P\n"
    )
    monkeypatch.syspath_prepend(str(site))
    registry = PluginRegistry()
    report = registry.load_entry_points()
    assert [(e.name, e.version) for e in report.loaded] == [("ep-plugin", "0.3.0")]
    reasons = {r.plugin: r.why for r in report.refused}
    assert "does not include this SDK's API" in reasons["ep-broken"]
    assert "ModuleNotFoundError" in reasons["ep-missing"]
    assert registry.get("ep-plugin", "0.3.0").origin.startswith("entry-point:ep-plugin:")
