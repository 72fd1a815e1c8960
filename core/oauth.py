"""Instance tokens: what ``Authorization`` header an instance sends, refreshed before expiry.

``TokenManager`` is one instance's token source in one process. It reads the instance's credential
(``core.credentials``), answers the header for its kind (basic for an API token, bearer for a
personal access token or an OAuth access token) and refreshes an OAuth token when it is within
``refresh_before_s`` of expiring, or once after a 401. Refreshes are single-flight: an asyncio
lock per instance in this process and the credential row held ``FOR UPDATE`` across processes;
whoever waited re-reads the row and uses the token the first refresher stored. A rotated refresh
token is stored in the same transaction that read the old one.

A refresh the provider refuses (``invalid_grant``: revoked, expired, rotated away) raises
``CredentialsRefused``, a ``PluginAuthFailed``: the host then marks the instance ``needs_reauth``.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from core.credentials import Credential, CredentialStore
from core.errors import ClientError, PluginAuthFailed, RetryableError

OAUTH_KINDS = frozenset({"oauth2_authorization_code", "oauth2_client_credentials"})
TOKEN_TIMEOUT_S = 15.0


class CredentialsRefused(PluginAuthFailed):
    """The provider refused the instance's credentials (or there are none): re-authorize."""

    code = "credentials-refused"
    title = "Credentials refused"


class GrantRefused(ClientError):
    """While a tenant sets up auth, the provider refused the client or the authorization code."""

    code = "oauth-grant-refused"
    status = 400
    title = "Authorization refused by the provider"


class InstanceNeedsReauth(PluginAuthFailed):
    """The instance waits for a new authorization; its deliveries are kept until then."""

    code = "needs-reauth"
    title = "Instance needs re-authorization"


_FIELDS_OF_KIND = {
    "api_token": ("email", "token"),
    "personal_access_token": ("token",),
    "oauth2_authorization_code": ("client_id", "client_secret"),
    "oauth2_client_credentials": ("client_id", "client_secret"),
}


class AuthConfigInput(BaseModel):
    """What a tenant sends to set an instance's auth (``PUT …/{instance}/auth``)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    kind: Literal[
        "api_token", "personal_access_token", "oauth2_authorization_code",
        "oauth2_client_credentials",
    ]  # fmt: skip
    email: str | None = Field(None, max_length=320, description="api_token: the account email")
    token: SecretStr | None = Field(None, description="api_token / personal_access_token")
    client_id: str | None = Field(None, max_length=500, description="OAuth kinds: the app's id")
    client_secret: SecretStr | None = Field(None, description="OAuth kinds: the app's secret")

    @model_validator(mode="after")
    def _fields_match_kind(self) -> Self:
        wanted = set(_FIELDS_OF_KIND[self.kind])
        given = {n for n in ("email", "token", "client_id", "client_secret") if getattr(self, n)}
        if wanted - given:
            raise ValueError(f"kind {self.kind!r} needs {sorted(wanted - given)}")
        if given - wanted:
            raise ValueError(f"kind {self.kind!r} takes no {sorted(given - wanted)}")
        return self

    def values(self) -> dict[str, str]:
        """The credential values to store (plain strings; encrypted at rest)."""
        out = {}
        for name in _FIELDS_OF_KIND[self.kind]:
            value = getattr(self, name)
            out[name] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        return out


class AuthStatus(BaseModel):
    """An instance's auth as the API shows it: never a token or secret."""

    kinds: list[str] = Field(description="auth kinds the plugin supports")
    kind: str | None = Field(description="the configured kind; null when none")
    authorized: bool = Field(description="a token is stored (OAuth: the flow was completed)")
    expires_at: dt.datetime | None = Field(description="when the access token expires")
    state: str = Field(description="the instance's state (needs_reauth waits for a new token)")
    held_deliveries: int = Field(description="deliveries kept until the instance is re-authorized")


@dataclass(frozen=True)
class TokenEndpoint:
    """Where and how an OAuth kind gets tokens (the manifest's spec, rendered for the instance)."""

    token_url: str
    scopes: tuple[str, ...] = ()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def header_of(credential: Credential) -> str:
    """The ``Authorization`` value of a credential; ``CredentialsRefused`` when it has no token."""
    values = credential.values
    if credential.kind == "api_token":
        raw = f"{values.get('email', '')}:{values.get('token', '')}".encode()
        return "Basic " + base64.b64encode(raw).decode()
    token = values.get("access_token") if credential.kind in OAUTH_KINDS else values.get("token")
    if not token:
        raise CredentialsRefused(f"the instance's {credential.kind} credential has no token yet")
    return f"Bearer {token}"


async def request_token(
    http: httpx.AsyncClient, endpoint: TokenEndpoint, form: Mapping[str, str]
) -> dict[str, Any]:
    """POST a token request; the token response, or ``CredentialsRefused`` / ``RetryableError``."""
    try:
        response = await http.post(endpoint.token_url, data=dict(form), timeout=TOKEN_TIMEOUT_S)
    except httpx.TransportError as err:
        raise RetryableError(f"token endpoint unreachable: {type(err).__name__}") from err
    body: dict[str, Any] = {}
    if response.headers.get("content-type", "").startswith("application/json"):
        parsed = response.json()
        body = parsed if isinstance(parsed, dict) else {}
    if response.status_code in (400, 401, 403):
        error = str(body.get("error", f"HTTP {response.status_code}"))
        raise CredentialsRefused(f"token endpoint refused the grant: {error}", oauth_error=error)
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        raise RetryableError(f"token endpoint answered HTTP {response.status_code}")
    return body


def token_credential(kind: str, base: Mapping[str, str], answer: Mapping[str, Any]) -> Credential:
    """The credential after a token response: new access token, rotated refresh token if sent."""
    values = {**base, "access_token": str(answer["access_token"])}
    if isinstance(answer.get("refresh_token"), str):
        values["refresh_token"] = answer["refresh_token"]
    expires_in = answer.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and expires_in > 0:
        expires_at = _now() + dt.timedelta(seconds=float(expires_in))
    return Credential(kind, values, expires_at)


class TokenManager:
    """One instance's token source in this process (share it: it is the single-flight point)."""

    def __init__(
        self,
        store: CredentialStore,
        tenant_id: str,
        instance_id: str,
        endpoints: Mapping[str, TokenEndpoint],
        http: httpx.AsyncClient,
        refresh_before_s: float = 120.0,
    ) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.instance_id = instance_id
        self.endpoints = dict(endpoints)
        self.http = http
        self.refresh_before_s = refresh_before_s
        self.refreshes = 0  # token requests made by this manager (health and tests read it)
        self._lock = asyncio.Lock()
        self._cached: Credential | None = None

    def invalidate(self) -> None:
        """Forget the cached credential (a new one was stored)."""
        self._cached = None

    def _due(self, credential: Credential) -> bool:
        if credential.kind not in OAUTH_KINDS:
            return False
        if not credential.values.get("access_token") or credential.expires_at is None:
            return not credential.values.get("access_token")
        left = (credential.expires_at - _now()).total_seconds()
        return left <= self.refresh_before_s

    async def authorization(self, stale: str | None = None) -> str | None:
        """The header to send (None without a credential); ``stale`` is one a 401 refused."""
        credential = self._cached or await self.store.get(self.tenant_id, self.instance_id)
        if credential is None:
            return None
        self._cached = credential
        if not self._due(credential) and (stale is None or header_of(credential) != stale):
            return header_of(credential)
        if credential.kind not in OAUTH_KINDS:
            return None if stale else header_of(credential)  # nothing to refresh
        async with self._lock:
            cached = self._cached
            if cached is not None and not self._due(cached):
                if stale is None or header_of(cached) != stale:
                    return header_of(cached)  # refreshed while this call waited
            return header_of(await self._refresh(stale))

    async def _refresh(self, stale: str | None) -> Credential:
        async with self.store.locked(self.tenant_id, self.instance_id) as (conn, current):
            if current is None:
                raise CredentialsRefused("the instance has no credential")
            fresh = not self._due(current) and current.values.get("access_token")
            if fresh and (stale is None or header_of(current) != stale):
                self._cached = current  # another process refreshed it
                return current
            renewed = await self._grant(current)
            await self.store.put(self.tenant_id, self.instance_id, renewed, conn=conn)
        self._cached = renewed
        return renewed

    async def _grant(self, current: Credential) -> Credential:
        endpoint = self.endpoints.get(current.kind)
        if endpoint is None:
            raise CredentialsRefused(f"the plugin declares no token endpoint for {current.kind}")
        values = current.values
        form = {
            "client_id": values.get("client_id", ""),
            "client_secret": values.get("client_secret", ""),
        }
        if current.kind == "oauth2_client_credentials":
            form |= {"grant_type": "client_credentials", "scope": " ".join(endpoint.scopes)}
        elif values.get("refresh_token"):
            form |= {"grant_type": "refresh_token", "refresh_token": values["refresh_token"]}
        else:
            raise CredentialsRefused("the instance is not authorized yet: start the OAuth flow")
        self.refreshes += 1
        answer = await request_token(self.http, endpoint, form)
        return token_credential(current.kind, values, answer)
