"""Signing primitives: real vectors, rotation, tampering, stale timestamps, malformed headers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from core.errors import SignatureInvalid
from core.settings import load_settings
from core.signing import (
    canonical_request,
    make_connect_jwt,
    query_string_hash,
    sign_hub_signature,
    sign_standard,
    verify_connect_jwt,
    verify_hub_signature,
    verify_standard,
)

VECTOR_SECRET = "Gkvl$k$wyNpQAF42"
VECTOR_SIGNATURE = "sha256=f205c729821c6954aff2afe72b965c34015b4baf96ea8ddc2cc44999c014a035"
# The Standard Webhooks specification's published test vector.
STD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STD_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
STD_TS = 1614265330
STD_BODY = b'{"test": 2432232314}'
STD_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _vector_path() -> Path:
    return (
        load_settings().contracts_dir
        / "webhooks"
        / "bitbucket-cloud"
        / "repo_push--signed-test-vector.json"
    )


# --- X-Hub-Signature -----------------------------------------------------------------------------
def test_hub_signature_matches_the_real_bitbucket_vector() -> None:
    path = _vector_path()
    if not path.is_file():
        pytest.skip(f"shared contracts not present at {path}")
    body = path.read_bytes()
    assert sign_hub_signature(VECTOR_SECRET, body) == VECTOR_SIGNATURE
    assert verify_hub_signature([VECTOR_SECRET], body, VECTOR_SIGNATURE)
    assert not verify_hub_signature([VECTOR_SECRET], body + b"\n", VECTOR_SIGNATURE)


def test_hub_signature_accepts_any_rotated_secret() -> None:
    body = b'{"a": 1}'
    header = sign_hub_signature("new", body)
    assert verify_hub_signature(["old", "new"], body, header)
    assert verify_hub_signature(["new", "old"], body, header.upper().replace("SHA256=", "sha256="))
    assert not verify_hub_signature(["old"], body, header)
    assert not verify_hub_signature([], body, header)


@pytest.mark.parametrize(
    "header", [None, "", "sha1=abc", "sha256=", "sha256=zz", "f205c729821c6954aff2afe72b"]
)
def test_hub_signature_rejects_malformed_headers(header: str | None) -> None:
    assert not verify_hub_signature(["s"], b"{}", header)


# --- Standard Webhooks ---------------------------------------------------------------------------
def _std_headers(signature: str, ts: int = STD_TS, msg_id: str = STD_ID) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_standard_matches_the_spec_vector() -> None:
    assert sign_standard(STD_SECRET, STD_ID, STD_TS, STD_BODY) == STD_SIGNATURE
    assert verify_standard([STD_SECRET], _std_headers(STD_SIGNATURE), STD_BODY, STD_TS) == STD_ID


def test_standard_accepts_one_of_several_signatures_and_rotated_secrets() -> None:
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    header = f"v1a,ignored v1,{base64.b64encode(b'wrong').decode()} {STD_SIGNATURE}"
    headers = {k.title(): v for k, v in _std_headers(header).items()}  # header names any case
    assert verify_standard([other, STD_SECRET], headers, STD_BODY, STD_TS + 299) == STD_ID
    with pytest.raises(SignatureInvalid, match="no matching signature"):
        verify_standard([other], headers, STD_BODY, STD_TS)


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"webhook-id": ""}, "missing header webhook-id"),
        ({"webhook-timestamp": ""}, "missing header webhook-timestamp"),
        ({"webhook-signature": ""}, "missing header webhook-signature"),
        ({"webhook-timestamp": "yesterday"}, "bad timestamp"),
        ({"webhook-timestamp": str(STD_TS - 301)}, "stale timestamp: 301 s old$"),
        ({"webhook-timestamp": str(STD_TS + 301)}, "stale timestamp: 301 s in the future$"),
        ({"webhook-signature": "v2," + STD_SIGNATURE[3:]}, "no matching signature"),
        ({"webhook-signature": "garbage"}, "no matching signature"),
        ({"webhook-id": "msg_other"}, "no matching signature"),
    ],
)
def test_standard_rejects_with_a_clear_detail(change: dict[str, str], detail: str) -> None:
    headers = _std_headers(STD_SIGNATURE) | change
    with pytest.raises(SignatureInvalid, match=detail) as info:
        verify_standard([STD_SECRET], headers, STD_BODY, STD_TS)
    assert info.value.status == 401


def test_standard_rejects_a_tampered_body() -> None:
    with pytest.raises(SignatureInvalid, match="no matching signature"):
        verify_standard([STD_SECRET], _std_headers(STD_SIGNATURE), STD_BODY + b" ", STD_TS)


def test_standard_refuses_a_secret_that_is_not_base64() -> None:
    with pytest.raises(ValueError, match="base64"):
        sign_standard("whsec_not base64!", "m", 1, b"")


# --- Connect JWT ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("post", "/user", "", "POST&/user&"),
        ("GET", "", "", "GET&/&"),
        ("GET", "/a/b/", "", "GET&/a/b&"),
        ("GET", "/a&b", "", "GET&/a%26b&"),
        ("GET", "/p", "b=2&a=1&jwt=tok", "GET&/p&a=1&b=2"),
        ("GET", "/p", "x=b&x=a&y=", "GET&/p&x=a,b&y="),
        ("GET", "/p", "q=a b*~&r=%2F", "GET&/p&q=a%20b%2A~&r=%2F"),
        ("GET", "/p", {"z": ["2", "1"], "a": "x,y"}, "GET&/p&a=x%2Cy&z=1,2"),
    ],
)
def test_canonical_request_follows_atlassians_rules(
    method: str, path: str, query: str | dict[str, str | list[str]], expected: str
) -> None:
    assert canonical_request(method, path, query) == expected


def test_connect_jwt_round_trip_and_claims() -> None:
    token = make_connect_jwt("s3cret", "client-key", "GET", "/rest/api/x?b=2&a=1", now=1000, ttl=60)
    claims = verify_connect_jwt(
        ["old", "s3cret"], f"JWT {token}", "get", "/rest/api/x", {"a": "1", "b": "2"}, now=1030
    )
    assert claims["iss"] == "client-key"
    assert claims["exp"] == 1060
    assert claims["qsh"] == query_string_hash("GET", "/rest/api/x", "a=1&b=2")
    # The token may travel in the query instead of the header; jwt is left out of the qsh.
    assert verify_connect_jwt(["s3cret"], None, "GET", "/rest/api/x", f"a=1&b=2&jwt={token}", 1000)


def _forge(claims: dict[str, object], alg: str = "HS256") -> str:
    def enc(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': alg, 'typ': 'JWT'})}.{enc(claims)}.c2ln"


@pytest.mark.parametrize(
    ("auth", "method", "now", "detail"),
    [
        ("Bearer x", "GET", 1000, "not 'JWT <token>'"),
        ("JWT not-a-jwt", "GET", 1000, "malformed JWT"),
        ("JWT " + _forge({"iss": "x"}, alg="none"), "GET", 1000, "unsupported JWT alg"),
        ("JWT " + _forge({"iss": "x"}), "GET", 1000, "does not match any shared secret"),
        (None, "GET", 1000, "missing JWT"),
        ("good", "GET", 1200, "expired"),
        ("good", "GET", 900, "issued in the future"),
        ("good", "POST", 1000, "qsh does not match"),
    ],
)
def test_connect_jwt_rejections(auth: str | None, method: str, now: int, detail: str) -> None:
    if auth == "good":
        auth = "JWT " + make_connect_jwt("s", "iss", "GET", "/p?a=1", now=1000, ttl=60)
    with pytest.raises(SignatureInvalid, match=detail):
        verify_connect_jwt(["s"], auth, method, "/p", "a=1", now=now)


def test_connect_jwt_rejects_a_wrong_query() -> None:
    token = make_connect_jwt("s", "iss", "GET", "/p?a=1", now=1000)
    with pytest.raises(SignatureInvalid, match="qsh"):
        verify_connect_jwt(["s"], f"JWT {token}", "GET", "/p", "a=2", now=1000)
