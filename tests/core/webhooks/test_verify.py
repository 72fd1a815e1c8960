"""verify_delivery per scheme (rotation, tampering, staleness, no leaks) and idempotency keys."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import SignatureInvalid
from core.settings import load_settings
from core.signing import make_connect_jwt, sign_hub_signature, sign_standard
from core.webhooks.verify import idempotency_key, verify_delivery

BODY = b'{"webhookEvent": "jira:issue_updated"}'
OLD, NEW = "old-secret-1234", "new-secret-5678"
STD_OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STD_NEW = "whsec_dGhpcyBpcyB0aGUgbmV3IHNpZ25pbmcga2V5IQ=="
NOW = 1_700_000_000.0


def _verify(scheme: str, secrets: list[str], headers: dict[str, str], body: bytes = BODY,
            *, query: str = "", now: float = NOW) -> None:  # fmt: skip
    verify_delivery(
        scheme, secrets, method="POST", path="/v1/webhooks/acme/jira-1", query=query,
        headers=headers, body=body, now=now,
    )  # fmt: skip


def _rejects(scheme: str, secrets: list[str], headers: dict[str, str], body: bytes = BODY,
             **kw: object) -> str:  # fmt: skip
    with pytest.raises(SignatureInvalid) as caught:
        _verify(scheme, secrets, headers, body, **kw)  # type: ignore[arg-type]
    detail = caught.value.detail
    for secret in (OLD, NEW, STD_OLD, STD_NEW):
        assert secret not in detail
    for value in headers.values():
        assert len(value) < 12 or value not in detail  # never echoes a signature or token
    return detail


# --- atlassian-hmac ------------------------------------------------------------------------------
def test_hmac_accepts_both_secrets_during_rotation_with_any_header_case() -> None:
    for secret in (OLD, NEW):
        _verify("atlassian-hmac", [NEW, OLD], {"X-HUB-SIGNATURE": sign_hub_signature(secret, BODY)})
        _verify("atlassian-hmac", [NEW, OLD], {"x-hub-signature": sign_hub_signature(secret, BODY)})


def test_hmac_rejects_tampering_expired_secret_and_missing_or_bad_headers() -> None:
    signed = {"X-Hub-Signature": sign_hub_signature(OLD, BODY)}
    assert "does not match" in _rejects("atlassian-hmac", [NEW, OLD], signed, BODY + b" ")
    assert "does not match" in _rejects("atlassian-hmac", [NEW], signed)  # old one expired
    assert "missing header X-Hub-Signature" in _rejects("atlassian-hmac", [NEW], {})
    sha1 = {"X-Hub-Signature": "sha1=" + hashlib.sha1(BODY).hexdigest()}
    assert "sha256=" in _rejects("atlassian-hmac", [NEW], sha1)
    assert "no webhook signing secret" in _rejects("atlassian-hmac", [], signed)


def test_hmac_matches_the_real_bitbucket_vector() -> None:
    path = (
        load_settings().contracts_dir
        / "webhooks/bitbucket-cloud/repo_push--signed-test-vector.json"
    )
    if not path.is_file():
        pytest.skip(f"shared contracts not present at {path}")
    sig = "sha256=f205c729821c6954aff2afe72b965c34015b4baf96ea8ddc2cc44999c014a035"
    _verify("atlassian-hmac", ["Gkvl$k$wyNpQAF42"], {"X-Hub-Signature": sig}, path.read_bytes())


# --- standard-webhooks ---------------------------------------------------------------------------
def _std_headers(secret: str, stamp: int, msg_id: str = "msg_1", extra: str = "") -> dict[str, str]:
    signature = sign_standard(secret, msg_id, stamp, BODY)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": f"{extra} {signature}".strip(),
    }


def test_standard_accepts_several_signatures_and_rotated_secrets() -> None:
    stamp = int(NOW)
    other = sign_standard(STD_NEW, "msg_1", stamp, b"something else")
    _verify("standard-webhooks", [STD_NEW, STD_OLD], _std_headers(STD_OLD, stamp, extra=other))
    _verify("standard-webhooks", [STD_NEW], _std_headers(STD_NEW, stamp, extra="v2,AAAA"))


def test_standard_tolerance_is_five_minutes_either_way() -> None:
    for skew in (-300, 300):
        _verify("standard-webhooks", [STD_OLD], _std_headers(STD_OLD, int(NOW) + skew))
    for skew in (-301, 301):
        detail = _rejects("standard-webhooks", [STD_OLD], _std_headers(STD_OLD, int(NOW) + skew))
        assert "stale timestamp" in detail


def test_standard_rejects_tampering_and_missing_headers() -> None:
    headers = _std_headers(STD_OLD, int(NOW))
    assert "no matching signature" in _rejects("standard-webhooks", [STD_OLD], headers, BODY + b"x")
    replayed_id = dict(headers, **{"webhook-id": "msg_2"})
    assert "no matching signature" in _rejects("standard-webhooks", [STD_OLD], replayed_id)
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        partial = {k: v for k, v in headers.items() if k != name}
        assert f"missing header {name}" in _rejects("standard-webhooks", [STD_OLD], partial)


def test_standard_ignores_a_malformed_secret_during_rotation() -> None:
    headers = _std_headers(STD_OLD, int(NOW))
    _verify("standard-webhooks", ["not base64 !!", STD_OLD], headers)
    assert "whsec_" in _rejects("standard-webhooks", ["not base64 !!"], headers)


# --- connect-jwt ---------------------------------------------------------------------------------
def test_connect_jwt_checks_signature_qsh_and_expiry() -> None:
    url = "/v1/webhooks/acme/jira-1?b=2&a=1"
    token = make_connect_jwt(NEW, "jira:client", "POST", url, now=int(NOW))
    auth = {"Authorization": f"JWT {token}"}
    _verify("connect-jwt", [OLD, NEW], auth, query="a=1&b=2")
    assert "qsh" in _rejects("connect-jwt", [NEW], auth, query="a=1&b=3")
    assert "shared secret" in _rejects("connect-jwt", [OLD], auth, query="a=1&b=2")
    assert "expired" in _rejects("connect-jwt", [NEW], auth, query="a=1&b=2", now=NOW + 600)
    assert "missing JWT" in _rejects("connect-jwt", [NEW], {})


# --- none and unknown ----------------------------------------------------------------------------
def test_scheme_none_accepts_and_unknown_scheme_fails_closed() -> None:
    _verify("none", [], {})
    assert "unsupported signature scheme" in _rejects("github-sha1", [NEW], {})


# --- idempotency keys ----------------------------------------------------------------------------
BODY_KEY = "sha256:" + hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"webhook-id": "msg_1", "X-Request-Id": "r"}, "std:msg_1"),
        ({"X-Atlassian-Webhook-Identifier": "123-abc", "X-Request-Id": "r"}, "atl:123-abc"),
        (
            {"X-Request-UUID": "{r-1}", "X-Hook-UUID": "{h-1}", "X-Request-Id": "r"},
            "bbc:{h-1}/{r-1}",
        ),
        ({"x-request-uuid": "{r-1}"}, "bbc:{r-1}"),
        ({"X-REQUEST-ID": "7f1c"}, BODY_KEY),  # the data plane's own id, fresh per request
        ({"Content-Type": "application/json"}, BODY_KEY),
    ],
)
def test_idempotency_key_precedence(headers: dict[str, str], expected: str) -> None:
    assert idempotency_key(headers, BODY) == expected


@pytest.mark.parametrize(
    "bad", ["", "   ", "a b", "x\r\nNats-Msg-Id: evil", "tab\there", "é-unicode", "x" * 201]
)
def test_insane_header_values_fall_back(bad: str) -> None:
    assert idempotency_key({"webhook-id": bad}, BODY) == BODY_KEY
    assert idempotency_key({"webhook-id": bad, "X-Request-Id": "ok"}, BODY) == BODY_KEY
    assert idempotency_key({"X-Request-UUID": "{r}", "X-Hook-UUID": bad}, BODY) == "bbc:{r}"


def test_idempotency_key_accepts_the_longest_sane_value_and_hashes_bodies() -> None:
    assert idempotency_key({"webhook-id": "x" * 200}, BODY) == "std:" + "x" * 200
    assert idempotency_key({}, b"") == "sha256:" + hashlib.sha256(b"").hexdigest()
    assert idempotency_key({}, BODY) != idempotency_key({}, BODY + b" ")


@given(st.text(max_size=300), st.text(max_size=300), st.binary(max_size=64))
def test_any_header_values_give_a_safe_key(webhook_id: str, request_id: str, body: bytes) -> None:
    key = idempotency_key({"webhook-id": webhook_id, "X-Request-Id": request_id}, body)
    prefix, _, value = key.partition(":")
    assert prefix in {"std", "req", "sha256"}
    assert 1 <= len(value) <= 200 and all("\x21" <= ch <= "\x7e" for ch in value)


@given(st.binary(min_size=1, max_size=256), st.data())
def test_any_changed_byte_breaks_the_hmac(body: bytes, data: st.DataObject) -> None:
    headers = {"X-Hub-Signature": sign_hub_signature(NEW, body)}
    _verify("atlassian-hmac", [OLD, NEW], headers, body)
    index = data.draw(st.integers(0, len(body) - 1))
    flipped = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
    with pytest.raises(SignatureInvalid):
        _verify("atlassian-hmac", [OLD, NEW], headers, flipped)
