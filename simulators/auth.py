"""Authentication shared by every simulator: API-token basic auth and OAuth 2.0 bearer tokens.

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
class Principal:
    """Who made a request and how they proved it."""

    account_id: str
    email: str
    scheme: Literal["basic", "bearer"]
    client_id: str | None = None


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


def demo_account_id(config: SimulatorConfig) -> str:
    """Stable Atlassian-style account id of the demo user (same for every app of a config)."""
    return "712020:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "sim-user:" + config.user_email))


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
    user_ok = hmac.compare_digest(user.encode(), config.user_email.encode())
    token_ok = hmac.compare_digest(password.encode(), config.api_token.encode())
    if not (user_ok and token_ok):
        raise AuthError("invalid user or API token")
    return Principal(demo_account_id(config), config.user_email, "basic")


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
        claims = TokenIssuer(config).verify(credentials.strip(), audiences)
        return Principal(demo_account_id(config), config.user_email, "bearer", claims.client_id)
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
