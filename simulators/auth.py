"""Authentication shared by every simulator: accounts, API-token basic auth and bearer tokens.

Several accounts exist (the demo user, a dedicated agent account and two humans), each with its
own API token (Cloud basic auth ``email:token``), personal access token (Data Center bearer) and
Data Center user name, so a test can act as a person and see an agent answer as itself.

Tokens are stateless (an HMAC-signed claim set keyed by the OAuth client secret), so every
sub-app built from the same ``SimulatorConfig`` verifies the tokens any other one issued, without
shared state. Part B's Bitbucket apps use ``require_auth`` exactly like Jira and Confluence do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from fastapi import HTTPException, Request

from simulators.config import SimulatorConfig

Audience = Literal["atlassian", "graph", "refresh", "code"]
ATLASSIAN: tuple[Audience, ...] = ("atlassian",)
GRAPH: tuple[Audience, ...] = ("graph",)
DEMO_DISPLAY_NAME = "Demo User"


@dataclass(frozen=True)
class Account:
    """One user of every simulated product and the credentials that authenticate as them."""

    account_id: str
    email: str
    display_name: str
    username: str  # Data Center user name (``[~username]`` mentions)
    api_token: str  # Cloud basic auth password
    pat: str  # Data Center personal access token (``Authorization: Bearer <pat>``)


# (display name, e-mail, DC user name, API token, PAT) of the accounts beside the demo user.
EXTRA_ACCOUNTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("dcoder Agent", "agent@example.com", "dcoder-agent", "agent-token", "agent-pat"),
    ("Alice Reviewer", "alice@example.com", "alice", "alice-token", "alice-pat"),
    ("Bob Builder", "bob@example.com", "bob", "bob-token", "bob-pat"),
)


@dataclass(frozen=True)
class Principal:
    """Who made a request and how they proved it."""

    account_id: str
    email: str
    scheme: Literal["basic", "bearer"]
    client_id: str | None = None  # set for OAuth 2.0 (3LO) access tokens: the calling app
    scope: str = ""  # the OAuth 2.0 token's scopes (space-separated)


@dataclass(frozen=True)
class Claims:
    """The verified content of a simulator-issued token."""

    audience: Audience
    subject: str
    client_id: str
    expires_at: float
    scope: str


class AuthError(Exception):
    """A request's credentials are missing, wrong or expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


def account_id_for(email: str) -> str:
    """Stable Atlassian-style account id of the user with ``email``."""
    return "712020:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "sim-user:" + email))


def demo_account_id(config: SimulatorConfig) -> str:
    """Stable Atlassian-style account id of the demo user (same for every app of a config)."""
    return account_id_for(config.user_email)


def accounts(config: SimulatorConfig) -> tuple[Account, ...]:
    """Every account, the demo user (credentials from ``config``) first."""
    demo = Account(
        demo_account_id(config),
        config.user_email,
        DEMO_DISPLAY_NAME,
        config.user_email.split("@")[0],
        config.api_token,
        config.pat,
    )
    extra = (
        Account(account_id_for(email), email, name, user, token, pat)
        for name, email, user, token, pat in EXTRA_ACCOUNTS
        if email != config.user_email
    )
    return (demo, *extra)


def account_by_id(config: SimulatorConfig, account_id: str) -> Account | None:
    """The account with ``account_id``, if any."""
    return next((a for a in accounts(config) if a.account_id == account_id), None)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Issues and verifies signed tokens (access, refresh and authorization codes)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._key = hashlib.sha256(b"sim-token:" + config.oauth_client_secret.encode()).digest()
        self.config = config

    def issue(self, audience: Audience, *, subject: str, ttl_s: float, scope: str = "") -> str:
        """A new token for ``audience`` that expires ``ttl_s`` seconds from now."""
        claims = {
            "aud": audience,
            "sub": subject,
            "cid": self.config.oauth_client_id,
            "exp": time.time() + ttl_s,
            "scope": scope,
            "jti": uuid.uuid4().hex,  # two tokens issued in the same instant still differ
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"sim.{payload}.{self._sign(payload)}"

    def verify(self, token: str, audiences: Iterable[Audience]) -> Claims:
        """The claims of ``token``; raises ``AuthError`` when forged, foreign or expired."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != "sim":
            raise AuthError("malformed token")
        if not hmac.compare_digest(self._sign(parts[1]), parts[2]):
            raise AuthError("invalid token signature")
        try:
            raw = json.loads(_unb64(parts[1]))
        except (ValueError, binascii.Error) as err:
            raise AuthError("malformed token") from err
        if raw.get("aud") not in tuple(audiences):
            raise AuthError("token not valid for this resource")
        if float(raw["exp"]) <= time.time():
            raise AuthError("token expired", expired=True)
        return Claims(raw["aud"], raw["sub"], raw["cid"], float(raw["exp"]), raw.get("scope", ""))

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())


def _basic(config: SimulatorConfig, credentials: str) -> Principal:
    try:
        user, _, password = base64.b64decode(credentials).decode().partition(":")
    except (ValueError, binascii.Error) as err:
        raise AuthError("malformed basic credentials") from err
    for account in accounts(config):
        # Every account is compared in full, so the answer time does not say which e-mail exists.
        user_ok = hmac.compare_digest(user.encode(), account.email.encode())
        token_ok = hmac.compare_digest(password.encode(), account.api_token.encode())
        if user_ok and token_ok:
            return Principal(account.account_id, account.email, "basic")
    raise AuthError("invalid user or API token")


def _bearer(config: SimulatorConfig, token: str, audiences: tuple[Audience, ...]) -> Principal:
    if not token.startswith("sim.") and "atlassian" in audiences:
        for account in accounts(config):
            if hmac.compare_digest(token.encode(), account.pat.encode()):
                return Principal(account.account_id, account.email, "bearer")
        raise AuthError("invalid personal access token")
    claims = TokenIssuer(config).verify(token, audiences)
    # OAuth grants act for their subject; tokens for unknown subjects act as the demo user.
    found = account_by_id(config, claims.subject) or accounts(config)[0]
    return Principal(found.account_id, found.email, "bearer", claims.client_id, claims.scope)


def authenticate(
    config: SimulatorConfig, authorization: str | None, audiences: Iterable[Audience] = ATLASSIAN
) -> Principal:
    """Check an ``Authorization`` header value; basic auth is accepted for Atlassian audiences."""
    if not authorization:
        raise AuthError("authentication required")
    scheme, _, credentials = authorization.partition(" ")
    audiences = tuple(audiences)
    if scheme.lower() == "basic" and "atlassian" in audiences:
        return _basic(config, credentials.strip())
    if scheme.lower() == "bearer":
        return _bearer(config, credentials.strip(), audiences)
    raise AuthError("unsupported authorization scheme")


def unauthorized(err: AuthError) -> HTTPException:
    """The 401 the products answer, with the ``WWW-Authenticate`` challenge real clients expect."""
    challenge = 'Bearer error="invalid_token"' if err.expired else 'Basic realm="simulator"'
    return HTTPException(
        status_code=401, detail=err.message, headers={"WWW-Authenticate": challenge}
    )


def require_auth(
    config: SimulatorConfig, audiences: Iterable[Audience] = ATLASSIAN
) -> Callable[[Request], Principal]:
    """A FastAPI dependency that returns the caller's ``Principal`` or raises a 401."""
    allowed = tuple(audiences)

    def dependency(request: Request) -> Principal:
        try:
            return authenticate(config, request.headers.get("authorization"), allowed)
        except AuthError as err:
            raise unauthorized(err) from err

    return dependency
