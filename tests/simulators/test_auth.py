"""Shared simulator authentication: basic demo credentials and signed, expiring bearer tokens."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from simulators.auth import AuthError, Principal, TokenIssuer, authenticate, require_auth
from simulators.config import SimulatorConfig
from simulators.oauth import microsoft_router, oauth_router

CONFIG = SimulatorConfig()


def _basic(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


def test_basic_demo_credentials_accepted_and_wrong_token_refused() -> None:
    principal = authenticate(CONFIG, _basic("demo@example.com", "demo-token"))
    assert principal.scheme == "basic" and principal.email == "demo@example.com"
    with pytest.raises(AuthError):
        authenticate(CONFIG, _basic("demo@example.com", "nope"))
    with pytest.raises(AuthError):
        authenticate(CONFIG, None)


def test_bearer_expires_and_is_bound_to_audience_and_secret() -> None:
    issuer = TokenIssuer(CONFIG)
    token = issuer.issue("atlassian", subject="u", ttl_s=60)
    assert authenticate(CONFIG, f"Bearer {token}").scheme == "bearer"
    with pytest.raises(AuthError):  # a Graph-only resource refuses an Atlassian token
        authenticate(CONFIG, f"Bearer {token}", ["graph"])
    other = SimulatorConfig(oauth_client_secret="other")
    with pytest.raises(AuthError):
        authenticate(other, f"Bearer {token}")
    short = issuer.issue("atlassian", subject="u", ttl_s=0.01)
    time.sleep(0.02)
    with pytest.raises(AuthError) as info:
        authenticate(CONFIG, f"Bearer {short}")
    assert info.value.expired


def _client() -> TestClient:
    app = FastAPI()
    app.include_router(oauth_router(CONFIG))
    app.include_router(microsoft_router(CONFIG))

    @app.get("/me")
    def me(principal: Principal = Depends(require_auth(CONFIG))) -> dict[str, str]:  # noqa: B008
        return {"id": principal.account_id}

    return TestClient(app)


def test_authorization_code_then_refresh_flow() -> None:
    client = _client()
    redirect = client.get(
        "/authorize",
        params={"client_id": "demo-client", "redirect_uri": "http://cb/x", "state": "s1"},
        follow_redirects=False,
    )
    assert redirect.status_code == 307
    code = redirect.headers["location"].split("code=")[1].split("&")[0]
    creds = {"client_id": "demo-client", "client_secret": "demo-secret"}
    first = client.post(
        "/oauth/token", json={**creds, "grant_type": "authorization_code", "code": code}
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == CONFIG.access_token_ttl_s
    me = client.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    refreshed = client.post(
        "/oauth/token",
        data={**creds, "grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
    )
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != body["access_token"]
    bad = client.post(
        "/oauth/token", json={**creds, "grant_type": "refresh_token", "refresh_token": "x"}
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    assert client.get("/me").status_code == 401


def test_microsoft_client_credentials_token_is_graph_only() -> None:
    client = _client()
    form = {
        "grant_type": "client_credentials",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        "scope": "https://graph.microsoft.com/.default",
    }
    answer = client.post("/login/tenant-1/oauth2/v2.0/token", data=form)
    assert answer.status_code == 200
    token = answer.json()["access_token"]
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    wrong = client.post("/login/t/oauth2/v2.0/token", data={**form, "client_secret": "x"})
    assert wrong.status_code == 401


def _code(client: TestClient, **extra: str) -> str:
    params = {"client_id": "demo-client", "redirect_uri": "http://cb/x", "state": "s", **extra}
    location = client.get("/authorize", params=params, follow_redirects=False).headers["location"]
    return location.split("code=")[1].split("&")[0]


def test_pkce_s256_single_use_code_and_rotating_refresh_tokens() -> None:
    client = _client()
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    pkce = {"code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256"}
    creds = {"client_id": "demo-client", "client_secret": "demo-secret"}
    code = _code(client, **pkce)
    exchange = {**creds, "grant_type": "authorization_code", "code": code}
    wrong = client.post("/oauth/token", data={**exchange, "code_verifier": "w" * 50})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    first = client.post("/oauth/token", data={**exchange, "code_verifier": verifier})
    assert first.status_code == 200, first.text
    replay = client.post("/oauth/token", data={**exchange, "code_verifier": verifier})
    assert replay.status_code == 400  # a code is single-use
    plain = client.get(
        "/authorize",
        params={"client_id": "demo-client", "redirect_uri": "http://cb/x", "code_challenge": "c"},
        follow_redirects=False,
    )
    assert "error=invalid_request" in plain.headers["location"]  # only S256
    old = first.json()["refresh_token"]
    refresh = {**creds, "grant_type": "refresh_token"}
    rotated = client.post("/oauth/token", data={**refresh, "refresh_token": old})
    assert rotated.status_code == 200
    assert client.post("/oauth/token", data={**refresh, "refresh_token": old}).status_code == 400
    new = rotated.json()["refresh_token"]
    assert client.post("/_sim/oauth", json={"revoke_refresh_token": new}).json()["revoked"]
    revoked = client.post("/oauth/token", data={**refresh, "refresh_token": new})
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"


def test_microsoft_authorization_code_with_pkce_then_refresh_gives_graph_tokens() -> None:
    client = _client()
    verifier = "m" * 60
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "client_id": "demo-client",
        "redirect_uri": "http://cb/ms",
        "state": "st",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    authorize = client.get("/login/t1/oauth2/v2.0/authorize", params=query, follow_redirects=False)
    location = authorize.headers["location"]
    assert location.startswith("http://cb/ms?") and "state=st" in location
    code = location.split("code=")[1].split("&")[0]
    creds = {"client_id": "demo-client", "client_secret": "demo-secret"}
    exchange = {**creds, "grant_type": "authorization_code", "code": code}
    missing = client.post("/login/t1/oauth2/v2.0/token", data=exchange)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    tokens = client.post(
        "/login/t1/oauth2/v2.0/token", data={**exchange, "code_verifier": verifier}
    )
    assert tokens.status_code == 200, tokens.text
    access = tokens.json()["access_token"]
    assert TokenIssuer(CONFIG).verify(access, ["graph"]).audience == "graph"
    assert client.get("/me", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    refresh = {
        **creds,
        "grant_type": "refresh_token",
        "refresh_token": tokens.json()["refresh_token"],
    }
    assert client.post("/login/t1/oauth2/v2.0/token", data=refresh).status_code == 200
    again = client.post("/login/t1/oauth2/v2.0/token", data=refresh)
    assert again.status_code == 400  # rotated: the old refresh token is spent
