"""Feature flags through the real Flagsmith SDK: offline document, remote API, local evaluation.

The remote tests point the SDK at a small HTTP server started here that answers the Flagsmith
API's identities and environment-document endpoints, so the SDK makes its real HTTP calls.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.errors import SettingsError
from core.flags import FeatureFlags, plugin_feature_name
from core.paths import CONFIGS_DIR
from core.settings import FlagsmithSettings

DOCUMENT = CONFIGS_DIR / "flags.json"
# Feature names the fake remote API knows (plugins need not exist for the SDK's evaluation).
PLUGINS = ["generic-webhook", "jira", "bitbucket", "confluence", "sharepoint"]
OFF_TENANT = "flag-test-tenant-off"


def _offline(document: Path = DOCUMENT) -> FeatureFlags:
    return FeatureFlags(FlagsmithSettings(environment_key=None, offline_document=document))


def _builtin_plugins() -> set[str]:
    from plugins.registry import PluginRegistry

    registry = PluginRegistry()
    registry.load_builtins().raise_for_refused()
    return set(registry.names())


def test_every_flag_of_the_document_names_an_existing_plugin() -> None:
    document = json.loads(DOCUMENT.read_text())
    states = document["feature_states"] + [
        state for o in document["identity_overrides"] for state in o["identity_features"]
    ]
    plugins = _builtin_plugins()
    unknown = {s["feature"]["name"] for s in states} - {plugin_feature_name(p) for p in plugins}
    assert not unknown, f"configs/flags.json has flags for plugins that do not exist: {unknown}"
    assert "generic-webhook" in plugins


def test_offline_builtin_plugin_enabled_by_default() -> None:
    for plugin in _builtin_plugins():
        assert _offline().plugin_enabled(plugin, "acme")


def test_offline_identity_override_disables_one_plugin_for_one_tenant() -> None:
    flags = _offline()
    assert not flags.plugin_enabled("generic-webhook", OFF_TENANT)
    assert flags.plugin_enabled("generic-webhook", "another-tenant")


def test_plugin_without_a_flag_is_enabled() -> None:
    # A new plugin needs no flag (and no restart); flags only switch plugins off.
    assert _offline().plugin_enabled("brand-new-plugin", "acme")
    assert _offline().plugin_enabled("brand-new-plugin", OFF_TENANT)


def test_a_flag_switched_off_for_everybody_disables(tmp_path: Path) -> None:
    document = json.loads(DOCUMENT.read_text())
    document["feature_states"][0]["enabled"] = False
    (tmp_path / "flags.json").write_text(json.dumps(document))
    flags = _offline(tmp_path / "flags.json")
    assert not flags.plugin_enabled("generic-webhook", "acme")
    assert flags.plugin_enabled("another-plugin", "acme")


async def test_async_wrapper() -> None:
    flags = _offline()
    assert await flags.plugin_enabled_async("generic-webhook", "acme")
    assert not await flags.plugin_enabled_async("generic-webhook", OFF_TENANT)


def test_feature_name() -> None:
    assert plugin_feature_name("generic-webhook") == "plugin_generic_webhook"


def test_unreadable_document_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / "flags.json").write_text('{"feature_states": []}')
    with pytest.raises(SettingsError, match="OFFLINE_DOCUMENT"):
        _offline(tmp_path / "flags.json")


@dataclass
class FakeFlagsmith:
    """What the local Flagsmith API answers, and what it was asked."""

    disabled: dict[str, set[str]] = field(default_factory=dict)  # identity -> features off
    failing: bool = False
    requests: list[tuple[str, str, dict[str, Any] | None, str | None]] = field(default_factory=list)

    def identity_flags(self, identifier: str) -> dict[str, Any]:
        off = self.disabled.get(identifier, set())
        flags = [
            {
                "id": i,
                "feature": {"id": i, "name": name, "type": "STANDARD"},
                "feature_state_value": None,
                "enabled": name not in off,
                "environment": 1,
                "identity": None,
                "feature_segment": None,
            }
            for i, name in enumerate(map(plugin_feature_name, PLUGINS), 1)
        ]
        return {"flags": flags, "traits": []}


def _handler(api: FakeFlagsmith) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length))
            key = self.headers.get("X-Environment-Key")
            api.requests.append(("POST", self.path, body, key))
            if api.failing:
                self._answer(500, {"detail": "down"})
            elif self.path == "/api/v1/identities/":
                self._answer(200, api.identity_flags(body["identifier"]))
            else:
                self._answer(404, {"detail": "not found"})

        def do_GET(self) -> None:
            api.requests.append(("GET", self.path, None, self.headers.get("X-Environment-Key")))
            if self.path == "/api/v1/environment-document/" and not api.failing:
                self._answer(200, json.loads(DOCUMENT.read_text()))
            else:
                self._answer(404, {"detail": "not found"})

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeFlagsmith, str]]:
    api = FakeFlagsmith()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield api, f"http://127.0.0.1:{server.server_address[1]}/api/v1/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _remote(url: str, key: str = "env-key-123", local: bool = False) -> FeatureFlags:
    return FeatureFlags(
        FlagsmithSettings(environment_key=SecretStr(key), api_url=url, local_evaluation=local)
    )


async def test_remote_evaluation_calls_the_identities_endpoint(
    fake_api: tuple[FakeFlagsmith, str],
) -> None:
    api, url = fake_api
    api.disabled["tenant-x"] = {"plugin_jira"}
    flags = _remote(url)
    assert flags.mode == "remote"
    assert await flags.plugin_enabled_async("confluence", "tenant-x")
    assert not await flags.plugin_enabled_async("jira", "tenant-x")
    assert await flags.plugin_enabled_async("unknown", "tenant-x")  # no flag: not switched off
    assert await flags.plugin_enabled_async("jira", "tenant-y")
    method, path, body, key = api.requests[0]
    assert (method, path, key) == ("POST", "/api/v1/identities/", "env-key-123")
    assert body is not None and body["identifier"] == "tenant-x"


def test_remote_outage_keeps_last_answer_else_fails_closed(
    fake_api: tuple[FakeFlagsmith, str],
) -> None:
    api, url = fake_api
    flags = _remote(url)
    assert flags.plugin_enabled("jira", "tenant-x")
    api.failing = True
    assert flags.plugin_enabled("jira", "tenant-x")  # last known answer
    assert not flags.plugin_enabled("jira", "tenant-never-seen")  # nothing known: closed


def test_local_evaluation_fetches_the_document_once(fake_api: tuple[FakeFlagsmith, str]) -> None:
    api, url = fake_api
    flags = _remote(url, key="ser.server-key", local=True)
    assert flags.mode == "local"
    assert not flags.plugin_enabled("generic-webhook", OFF_TENANT)
    assert flags.plugin_enabled("generic-webhook", "acme")
    assert [r[1] for r in api.requests] == ["/api/v1/environment-document/"]
    flags.close()


def test_local_evaluation_needs_a_server_key(fake_api: tuple[FakeFlagsmith, str]) -> None:
    with pytest.raises(SettingsError, match="server key"):
        _remote(fake_api[1], key="client-key", local=True)


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for value in node.values() for k in _keys(value)}
    if isinstance(node, list):
        return {k for item in node for k in _keys(item)}
    return set()


def test_every_key_of_the_document_is_documented() -> None:
    docs = (CONFIGS_DIR.parent / "docs" / "flags.md").read_text()
    missing = {key for key in _keys(json.loads(DOCUMENT.read_text())) if f"`{key}`" not in docs}
    assert not missing, f"keys of configs/flags.json not described in docs/flags.md: {missing}"
