"""Webhook and Connect signing primitives: pure functions, constant-time compares, no I/O.

Three schemes:
* ``X-Hub-Signature: sha256=<hex>`` (Bitbucket Cloud/DC, Jira, Confluence DC): HMAC-SHA256 of the
  raw body.
* Standard Webhooks (standardwebhooks.com): ``webhook-id`` / ``webhook-timestamp`` /
  ``webhook-signature: v1,<base64>``, HMAC-SHA256 of ``"{id}.{timestamp}.{body}"``.
* Atlassian Connect JWT: HS256 token whose ``qsh`` claim binds it to one canonical request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from core.errors import SignatureInvalid

HUB_PREFIX = "sha256="
STANDARD_SECRET_PREFIX = "whsec_"
STANDARD_VERSION = "v1"
QueryInput = str | Mapping[str, str | Sequence[str]]


# --- X-Hub-Signature -----------------------------------------------------------------------------
def sign_hub_signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, body)>``, the value of ``X-Hub-Signature``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return HUB_PREFIX + digest


def verify_hub_signature(secrets: Sequence[str], body: bytes, header: str | None) -> bool:
    """True when ``header`` is the ``sha256=`` HMAC of ``body`` under any of ``secrets``."""
    if not header or not header.startswith(HUB_PREFIX):
        return False
    given = header[len(HUB_PREFIX) :].strip().lower().encode()
    matched = False
    # Check every secret (no early exit) so timing does not reveal which one matched.
    for secret in secrets:
        expected = sign_hub_signature(secret, body)[len(HUB_PREFIX) :].encode()
        matched |= hmac.compare_digest(expected, given)
    return matched


# --- Standard Webhooks ---------------------------------------------------------------------------
def _standard_key(secret: str) -> bytes:
    raw = secret.removeprefix(STANDARD_SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError(
            "Standard Webhooks secret is not base64 (expected whsec_<base64>)"
        ) from err


def sign_standard(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64>`` signature of one message under a ``whsec_<base64>`` secret."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_key(secret), content, hashlib.sha256).digest()
    return f"{STANDARD_VERSION},{base64.b64encode(digest).decode()}"


def stale_age(now: float, timestamp: int) -> str:
    """How far ``timestamp`` is from ``now``: ``"301 s old"`` or ``"301 s in the future"``."""
    delta = int(now - timestamp)
    return f"{delta} s old" if delta >= 0 else f"{-delta} s in the future"


def verify_standard(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance_s: int = 300,
) -> str:
    """Verify a Standard Webhooks delivery; return its ``webhook-id`` or raise SignatureInvalid."""
    lower = {key.lower(): value for key, value in headers.items()}
    msg_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    signatures = lower.get("webhook-signature")
    for name, value in (("webhook-id", msg_id), ("webhook-timestamp", stamp)):
        if not value:
            raise SignatureInvalid(f"missing header {name}")
    if not signatures:
        raise SignatureInvalid("missing header webhook-signature")
    assert msg_id is not None and stamp is not None  # narrowed by the loop above
    try:
        timestamp = int(stamp)
    except ValueError as err:
        raise SignatureInvalid(f"bad timestamp {stamp[:32]!r}: not integer seconds") from err
    if abs(now - timestamp) > tolerance_s:
        raise SignatureInvalid(f"stale timestamp: {stale_age(now, timestamp)}")
    offered = [
        part.partition(",")[2].encode()
        for part in signatures.split()
        if part.partition(",")[0] == STANDARD_VERSION
    ]
    matched = False
    for secret in secrets:
        expected = sign_standard(secret, msg_id, timestamp, body).partition(",")[2].encode()
        for candidate in offered:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureInvalid("no matching signature")
    return msg_id


# --- Atlassian Connect JWT -----------------------------------------------------------------------
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _pct(text: str) -> str:
    # RFC 3986: only unreserved characters stay; space is %20, never '+'.
    return quote(text, safe="-_.~")


def _query_pairs(query: QueryInput) -> list[tuple[str, str]]:
    if isinstance(query, str):
        return parse_qsl(query.lstrip("?"), keep_blank_values=True)
    pairs: list[tuple[str, str]] = []
    for key, values in query.items():
        for value in [values] if isinstance(values, str) else values:
            pairs.append((key, value))
    return pairs


def canonical_request(method: str, url_path: str, query: QueryInput) -> str:
    """Atlassian's canonical request: ``METHOD&/path&sorted-encoded-query`` (``jwt`` dropped)."""
    path = url_path or "/"
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/")
    path = path.replace("&", "%26")
    grouped: dict[str, list[str]] = {}
    for key, value in _query_pairs(query):
        if key != "jwt":
            grouped.setdefault(_pct(key), []).append(_pct(value))
    canonical_query = "&".join(
        f"{key}={','.join(sorted(values))}" for key, values in sorted(grouped.items())
    )
    return f"{method.upper()}&{path}&{canonical_query}"


def query_string_hash(method: str, url_path: str, query: QueryInput) -> str:
    """The ``qsh`` claim: hex SHA-256 of the canonical request."""
    return hashlib.sha256(canonical_request(method, url_path, query).encode()).hexdigest()


def _hs256(secret: str, signing_input: bytes) -> bytes:
    return hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()


def make_connect_jwt(
    shared_secret: str, issuer: str, method: str, url: str, now: int, ttl: int = 180
) -> str:
    """An HS256 Connect JWT for ``METHOD url`` (``url`` relative to the product base URL)."""
    parts = urlsplit(url)
    claims = {
        "iss": issuer,
        "iat": int(now),
        "exp": int(now) + ttl,
        "qsh": query_string_hash(method, parts.path, parts.query),
    }
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    return f"{header}.{payload}.{_b64url(_hs256(shared_secret, signing_input))}"


def _decode_segments(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(_b64url_decode(head_b64))
        claims = json.loads(_b64url_decode(body_b64))
        signature = _b64url_decode(sig_b64)
    except (ValueError, binascii.Error) as err:
        raise SignatureInvalid("malformed JWT") from err
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise SignatureInvalid("malformed JWT: header and claims must be objects")
    return header, claims, f"{head_b64}.{body_b64}".encode(), signature


def _token_from(authorization_header: str | None, query: QueryInput) -> str:
    if authorization_header:
        scheme, _, token = authorization_header.partition(" ")
        if scheme != "JWT" or not token.strip():
            raise SignatureInvalid("Authorization header is not 'JWT <token>'")
        return token.strip()
    from_query = [value for key, value in _query_pairs(query) if key == "jwt"]
    if not from_query:
        raise SignatureInvalid("missing JWT: no Authorization header and no jwt query parameter")
    return from_query[0]


def verify_connect_jwt(
    shared_secrets: Sequence[str],
    authorization_header: str | None,
    method: str,
    url_path: str,
    query: QueryInput,
    now: float,
    leeway_s: int = 30,
) -> dict[str, Any]:
    """Verify a Connect JWT (signature, exp/iat, qsh); return its claims or raise."""
    header, claims, signing_input, signature = _decode_segments(
        _token_from(authorization_header, query)
    )
    if header.get("alg") != "HS256":
        raise SignatureInvalid(f"unsupported JWT alg {header.get('alg')!r} (HS256 expected)")
    matched = False
    for secret in shared_secrets:
        matched |= hmac.compare_digest(_hs256(secret, signing_input), signature)
    if not matched:
        raise SignatureInvalid("JWT signature does not match any shared secret")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise SignatureInvalid("JWT lacks numeric exp/iat claims")
    if now > exp + leeway_s:
        raise SignatureInvalid(f"JWT expired {int(now - exp)} s ago")
    if iat > now + leeway_s:
        raise SignatureInvalid("JWT issued in the future (iat after now)")
    expected_qsh = query_string_hash(method, url_path, query)
    if not hmac.compare_digest(str(claims.get("qsh", "")), expected_qsh):
        raise SignatureInvalid("JWT qsh does not match this request")
    return claims
