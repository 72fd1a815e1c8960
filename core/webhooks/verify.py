"""Webhook authentication on the raw body, before anything parses, logs or queues it.

``verify_delivery`` dispatches on the scheme a plugin's manifest declares (``webhook.scheme``) to
the primitives in ``core.signing``. Several secrets may be passed at once: during a rotation the
old and the new secret are both accepted until the old one expires. Error details name what was
wrong (missing header, stale timestamp, no match) and never echo a secret or a signature.

``idempotency_key`` derives the de-duplication key of a delivery from the sender's delivery id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from core.errors import SignatureInvalid
from core.signing import sign_standard, verify_connect_jwt, verify_hub_signature, verify_standard

SCHEMES = ("atlassian-hmac", "standard-webhooks", "connect-jwt", "none")
MAX_ID_CHARS = 200
# Visible ASCII only: no spaces, no control characters (CR/LF would split a NATS header line).
_SANE_ID = re.compile(rf"^[\x21-\x7e]{{1,{MAX_ID_CHARS}}}$")


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _usable_standard_secrets(secrets: Sequence[str]) -> list[str]:
    # A malformed secret (not whsec_<base64>) must not make every delivery fail during a rotation.
    usable = []
    for secret in secrets:
        try:
            sign_standard(secret, "probe", 0, b"")
        except ValueError:
            continue
        usable.append(secret)
    return usable


def _verify_hmac(secrets: Sequence[str], headers: dict[str, str], body: bytes) -> None:
    header = headers.get("x-hub-signature")
    if not header:
        raise SignatureInvalid("missing header X-Hub-Signature")
    if not header.startswith("sha256="):
        raise SignatureInvalid("X-Hub-Signature is not 'sha256=<hex>'")
    if not verify_hub_signature(secrets, body, header):
        raise SignatureInvalid("X-Hub-Signature does not match the body under any current secret")


def verify_delivery(
    spec_scheme: str,
    secrets: Sequence[str],
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance_s: int = 300,
) -> None:
    """Authenticate one webhook request with ``spec_scheme``; raise SignatureInvalid if it fails.

    ``secrets`` are the instance's current signing secrets (new and, during an overlap, old);
    ``now`` is Unix time in seconds; ``tolerance_s`` bounds a Standard Webhooks timestamp's skew.
    """
    scheme = str(spec_scheme)
    if scheme == "none":
        return
    if scheme not in SCHEMES:
        raise SignatureInvalid(f"unsupported signature scheme {scheme[:40]!r}")
    if not secrets:
        raise SignatureInvalid("the instance has no webhook signing secret configured")
    lowered = _lower(headers)
    if scheme == "atlassian-hmac":
        _verify_hmac(secrets, lowered, body)
    elif scheme == "standard-webhooks":
        usable = _usable_standard_secrets(secrets)
        if not usable:
            raise SignatureInvalid("no signing secret of the form whsec_<base64> is configured")
        verify_standard(usable, lowered, body, now, tolerance_s)
    else:
        # The token's own exp/iat bound its age (Atlassian issues ~3 minute tokens).
        verify_connect_jwt(secrets, lowered.get("authorization"), method, path, query, now)


def _sane(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value if _SANE_ID.match(value) else None


def idempotency_key(headers: Mapping[str, str], body: bytes) -> str:
    """The de-duplication key of a delivery, from the sender's delivery id or the body's hash.

    Precedence (the first present, sane header wins):
    ``webhook-id`` → ``std:<id>``; ``X-Atlassian-Webhook-Identifier`` → ``atl:<id>``;
    ``X-Hook-UUID`` + ``X-Request-UUID`` → ``bbc:<hook>/<request>`` (``bbc:<request>`` without
    the hook); otherwise ``sha256:<hex of the body>``. ``X-Request-Id`` is never used: the data
    plane (HAProxy) stamps a fresh one on every request, so it would defeat the body-hash fallback.
    A value is sane when it is 1-200 visible ASCII characters; anything else (control
    characters, spaces, overlong) is ignored, so a header can never inject into the key.
    """
    lowered = _lower(headers)
    for name, prefix in (("webhook-id", "std"), ("x-atlassian-webhook-identifier", "atl")):
        value = _sane(lowered.get(name))
        if value:
            return f"{prefix}:{value}"
    request_uuid = _sane(lowered.get("x-request-uuid"))
    if request_uuid:
        hook_uuid = _sane(lowered.get("x-hook-uuid"))
        return f"bbc:{hook_uuid}/{request_uuid}" if hook_uuid else f"bbc:{request_uuid}"
    return "sha256:" + hashlib.sha256(body).hexdigest()
