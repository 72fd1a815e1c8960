"""Auth kinds a plugin declares in its manifest (``auth``) and a tenant picks per instance.

```json
"auth": [
  {"kind": "api_token"},
  {"kind": "oauth2_authorization_code",
   "authorize_url": "https://auth.atlassian.com/authorize",
   "token_url": "https://auth.atlassian.com/oauth/token",
   "scopes": ["read:jira-work", "offline_access"],
   "authorize_params": {"audience": "api.atlassian.com", "prompt": "consent"}}
]
```

Endpoint URLs may name instance config values in braces (``{base_url}/rest/oauth2/latest/token``,
``https://login.microsoftonline.com/{directory}/oauth2/v2.0/token``): a Data Center host or an
Entra directory differs per tenant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from core.errors import PluginConfigInvalid

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
URL_TEMPLATE_RE = r"^(?:https://|\{[a-z][a-z0-9_]*\})[^\s]*$"


class AuthKind(StrEnum):
    """How an instance authenticates to its remote system."""

    API_TOKEN = "api_token"  # email + API token, HTTP basic (Atlassian Cloud)
    PERSONAL_ACCESS_TOKEN = "personal_access_token"  # Bearer PAT (Jira/Bitbucket Data Center)
    OAUTH2_AUTHORIZATION_CODE = "oauth2_authorization_code"  # 3LO / Microsoft identity, PKCE
    OAUTH2_CLIENT_CREDENTIALS = "oauth2_client_credentials"  # app-only (Microsoft Graph)


OAUTH_KINDS = frozenset({AuthKind.OAUTH2_AUTHORIZATION_CODE, AuthKind.OAUTH2_CLIENT_CREDENTIALS})


def render_url(template: str, config: Mapping[str, Any]) -> str:
    """Fill ``{name}`` placeholders from the instance config (trailing ``/`` of values dropped)."""

    def value(match: re.Match[str]) -> str:
        got = config.get(match.group(1))
        if not isinstance(got, str) or not got:
            raise PluginConfigInvalid(f"auth endpoint needs config value {match.group(1)!r}")
        return got.rstrip("/")

    return _PLACEHOLDER.sub(value, template)


class AuthSpec(BaseModel):
    """One auth kind the plugin supports, with its OAuth endpoints and scopes."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    kind: AuthKind
    description: str = Field("", max_length=300)
    authorize_url: str | None = Field(None, pattern=URL_TEMPLATE_RE, max_length=500)
    token_url: str | None = Field(None, pattern=URL_TEMPLATE_RE, max_length=500)
    scopes: list[str] = Field(default_factory=list, max_length=50)
    authorize_params: dict[str, str] = Field(
        default_factory=dict, description="extra authorize query, e.g. Atlassian's audience"
    )

    @model_validator(mode="after")
    def _endpoints_match_kind(self) -> Self:
        needs = {
            AuthKind.OAUTH2_AUTHORIZATION_CODE: {"authorize_url", "token_url"},
            AuthKind.OAUTH2_CLIENT_CREDENTIALS: {"token_url"},
        }.get(self.kind, set())
        given = {n for n in ("authorize_url", "token_url") if getattr(self, n) is not None}
        if needs - given:
            raise ValueError(f"auth kind {self.kind.value!r} needs {sorted(needs - given)}")
        if given - needs:
            raise ValueError(f"auth kind {self.kind.value!r} takes no {sorted(given - needs)}")
        if self.kind not in OAUTH_KINDS and (self.scopes or self.authorize_params):
            raise ValueError(f"auth kind {self.kind.value!r} takes no scopes")
        reserved = {"client_id", "redirect_uri", "state", "code_challenge", "response_type"}
        if reserved & set(self.authorize_params):
            raise ValueError(f"authorize_params may not set {sorted(reserved)}")
        return self

    def endpoint_urls(self) -> list[str]:
        """The endpoint templates this kind uses."""
        return [u for u in (self.authorize_url, self.token_url) if u]


def _unique_kinds(specs: list[AuthSpec]) -> list[AuthSpec]:
    kinds = [s.kind for s in specs]
    if len(kinds) != len(set(kinds)):
        raise ValueError("auth kinds must be unique")
    return specs


AuthSpecs = Annotated[list[AuthSpec], AfterValidator(_unique_kinds)]
"""The manifest's ``auth`` list: each kind at most once."""
