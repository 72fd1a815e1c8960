"""The OAuth install flow's ``state``: signed, bound to tenant + instance, expiring, single-use.

``state`` = base64url(JSON {tenant, instance, nonce, expiry}) "." base64url(HMAC-SHA256). The HMAC
key is derived (HKDF) from the secrets key, so no new key needs managing; every configured secrets
key is tried when verifying, so a key rotation does not break flows in progress. The PKCE verifier
is derived from the nonce with the same key: nothing secret is stored. The ``oauth_states`` row
(table named only here) makes a state single-use.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.db import Database
from core.errors import ClientError, Conflict

_INFO = b"dcoder-integrations oauth state v1"


class OAuthStateInvalid(ClientError):
    """The callback's ``state`` is malformed, forged, expired or not this service's."""

    code = "oauth-state-invalid"
    status = 400
    title = "OAuth state invalid"


class OAuthStateUsed(Conflict):
    """The callback's ``state`` was already used (a replay)."""

    code = "oauth-state-used"
    title = "OAuth state already used"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_challenge(verifier: str) -> str:
    """The S256 ``code_challenge`` of a PKCE ``code_verifier``."""
    return _b64(hashlib.sha256(verifier.encode()).digest())


@dataclass(frozen=True)
class OAuthState:
    """What a verified state says."""

    tenant_id: str
    instance_id: str
    nonce: str
    expires_at: dt.datetime
    verifier: str  # the PKCE code_verifier of this flow


class StateSigner:
    """Issues and verifies states with keys derived from the secrets keys (newest first)."""

    def __init__(self, secrets_keys: Sequence[bytes]) -> None:
        if not secrets_keys:
            raise ValueError("no secrets key to derive the OAuth state key from")
        self._keys = [self._derive(k) for k in secrets_keys]

    @staticmethod
    def _derive(key: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key)

    @staticmethod
    def _verifier(key: bytes, nonce: str) -> str:
        return _b64(hmac.new(key, b"pkce:" + nonce.encode(), hashlib.sha256).digest())

    def issue(self, tenant_id: str, instance_id: str, ttl_s: int) -> tuple[str, OAuthState]:
        """A fresh signed state and what it says."""
        nonce = secrets.token_urlsafe(18)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_s)
        body = {"t": tenant_id, "i": instance_id, "n": nonce, "e": int(expires.timestamp())}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        key = self._keys[0]
        mac = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
        state = OAuthState(tenant_id, instance_id, nonce, expires, self._verifier(key, nonce))
        return f"{payload}.{mac}", state

    def verify(self, text: str) -> OAuthState:
        """What ``text`` says; ``OAuthStateInvalid`` if forged, malformed or expired."""
        payload, _, mac = text.partition(".")
        key = next((k for k in self._keys if self._mac_ok(k, payload, mac)), None)
        if key is None:
            raise OAuthStateInvalid("the OAuth state is not one this service issued")
        try:
            body = json.loads(_unb64(payload))
            tenant, instance, nonce = str(body["t"]), str(body["i"]), str(body["n"])
            expires = dt.datetime.fromtimestamp(int(body["e"]), dt.UTC)
        except (ValueError, KeyError, TypeError) as err:
            raise OAuthStateInvalid("the OAuth state is malformed") from err
        if expires <= dt.datetime.now(dt.UTC):
            raise OAuthStateInvalid("the OAuth state has expired: start the authorization again")
        return OAuthState(tenant, instance, nonce, expires, self._verifier(key, nonce))

    @staticmethod
    def _mac_ok(key: bytes, payload: str, mac: str) -> bool:
        expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
        return hmac.compare_digest(expected.encode(), mac.encode())


class OAuthStateStore:
    """Records issued states and spends each one once."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, state: OAuthState, redirect_uri: str) -> None:
        """Remember an issued state (and drop long-expired ones)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day'"
            )
            await conn.execute(
                "INSERT INTO oauth_states (nonce, tenant_id, instance_id, redirect_uri, expires_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                state.nonce, state.tenant_id, state.instance_id, redirect_uri, state.expires_at,
            )  # fmt: skip

    async def spend(self, state: OAuthState) -> str:
        """Mark the state used; its redirect URI. ``OAuthStateUsed`` on a replay."""
        row = await self.db.fetchrow(
            "UPDATE oauth_states SET used_at = now() WHERE nonce = $1 AND tenant_id = $2"
            " AND instance_id = $3 AND used_at IS NULL AND expires_at > now()"
            " RETURNING redirect_uri",
            state.nonce, state.tenant_id, state.instance_id,
        )  # fmt: skip
        if row is not None:
            return str(row["redirect_uri"])
        used = await self.db.fetchval(
            "SELECT used_at IS NOT NULL FROM oauth_states WHERE nonce = $1 AND tenant_id = $2"
            " AND instance_id = $3",
            state.nonce, state.tenant_id, state.instance_id,
        )  # fmt: skip
        if used:
            raise OAuthStateUsed("this OAuth state was already used: start the authorization again")
        raise OAuthStateInvalid("the OAuth state is unknown or expired")
