"""The manifest's ``auth`` section: kinds, endpoints per kind, URL templates, strictness."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from core.errors import PluginConfigInvalid
from plugin_sdk.auth_kinds import AuthKind, render_url
from plugin_sdk.manifest import Manifest

BASE: dict[str, Any] = {
    "name": "auth-probe", "version": "1.0.0", "sdk_api": ">=1.0,<2", "description": "probe",
}  # fmt: skip
THREE_LO = {
    "kind": "oauth2_authorization_code",
    "authorize_url": "https://auth.atlassian.com/authorize",
    "token_url": "https://auth.atlassian.com/oauth/token",
    "scopes": ["read:jira-work", "offline_access"],
    "authorize_params": {"audience": "api.atlassian.com", "prompt": "consent"},
}
GRAPH = {
    "kind": "oauth2_client_credentials",
    "token_url": "https://login.microsoftonline.com/{directory}/oauth2/v2.0/token",
    "scopes": ["https://graph.microsoft.com/.default"],
}


def test_every_kind_parses_with_its_endpoints() -> None:
    auth = [THREE_LO, GRAPH, {"kind": "api_token"}, {"kind": "personal_access_token"}]
    manifest = Manifest.model_validate({**BASE, "auth": auth})
    assert [a.kind for a in manifest.auth] == [
        AuthKind.OAUTH2_AUTHORIZATION_CODE, AuthKind.OAUTH2_CLIENT_CREDENTIALS,
        AuthKind.API_TOKEN, AuthKind.PERSONAL_ACCESS_TOKEN,
    ]  # fmt: skip
    spec = manifest.auth_spec("oauth2_client_credentials")
    assert spec is not None and spec.endpoint_urls() == [GRAPH["token_url"]]
    assert manifest.auth_spec("nope") is None
    assert Manifest.model_validate(BASE).auth == []  # optional: existing manifests still load


@pytest.mark.parametrize(
    ("auth", "why"),
    [
        ([{"kind": "oauth2_authorization_code", "token_url": "https://x/t"}], "authorize_url"),
        ([{"kind": "oauth2_client_credentials"}], "token_url"),
        ([{"kind": "api_token", "token_url": "https://x/t"}], "takes no"),
        ([{"kind": "personal_access_token", "scopes": ["a"]}], "takes no scopes"),
        ([{"kind": "basic"}], "kind"),
        ([{"kind": "api_token"}, {"kind": "api_token"}], "unique"),
        ([{**GRAPH, "token_url": "http://login.example/token"}], "token_url"),  # https only
        ([{**GRAPH, "token_url": "ftp://x/{a}"}], "token_url"),
        ([{**THREE_LO, "authorize_params": {"state": "x"}}], "may not set"),
        ([{**THREE_LO, "client_secret": "s"}], "Extra inputs"),
    ],
)
def test_bad_auth_sections_are_refused(auth: list[dict[str, Any]], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        Manifest.model_validate({**BASE, "auth": auth})


def test_url_templates_take_instance_config_values() -> None:
    assert render_url("{base_url}/rest/oauth2/latest/token", {"base_url": "https://dc.x/"}) == (
        "https://dc.x/rest/oauth2/latest/token"
    )
    with pytest.raises(PluginConfigInvalid, match="directory"):
        render_url(GRAPH["token_url"], {})
