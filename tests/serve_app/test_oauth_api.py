"""Credentials and OAuth through the real service (Ray, NATS, PostgreSQL) and the simulators.

The full 3LO dance (start → simulator consent → callback), the state's single use and binding,
refresh before expiry on every delivery (the simulator's tokens live 60 s, inside the refresh
window), a revoked refresh token → ``needs_reauth`` (health, audit, deliveries kept, not
dead-lettered), a new authorization → kept deliveries resumed; an API token resuming the same
way; tenant isolation; an egress refusal in the delivery's last error and the instance's health.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from core.credentials import CredentialStore
from core.crypto import SecretBox
from core.db import Database
from core.keys import secrets_keys
from core.settings import load_settings
from tests.conftest import TestServices
from tests.fixtures.oauth_plugin import write_oauth_plugin
from tests.fixtures.oauth_sim import Sim, running_simulator
from tests.serve_app.api_client import TenantClient, install_generic, new_tenant, operator, whsec
from tests.serve_app.webhook_helpers import signed, wait_status

CODE = "oauth2_authorization_code"


@pytest.fixture(scope="module")
def sim(test_services: TestServices, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    # the reserved port is the one DCODER_EGRESS_ALLOW names; tokens live 60 s so that every
    # call is inside the 120 s refresh window and refreshes first
    with running_simulator(
        tmp_path_factory.mktemp("sim"), test_services.sim_socket, access_token_ttl_s=60
    ) as running:
        yield running


@pytest.fixture(scope="module")
def probe(serve_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_oauth_plugin(tmp_path_factory.mktemp("oauth-plugin"))
    with operator(serve_url) as op:
        response = op.post("/v1/plugins/sources", json={"path": str(path)})
    assert response.status_code == 201, response.text
    return path


def _install(tenant: TenantClient, sim: Sim, secret: str) -> str:
    response = tenant.http.post(f"/v1/tenants/{tenant.id}/plugins", json={
        "plugin": "oauth-probe", "name": f"probe-{secrets.token_hex(3)}",
        "config": {"site": sim.url, "api": f"{sim.url}/jira"},
        "secrets": {"signing_secret": secret},
    })  # fmt: skip
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _authorize(serve_url: str, tenant: TenantClient, instance: str, sim: Sim) -> httpx.Response:
    """oauth/start → the simulator's consent → the service's callback, like a browser."""
    start = tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{instance}/oauth/start")
    assert start.status_code == 200, start.text
    url = start.json()["authorize_url"]
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["audience"] == ["api.atlassian.com"]
    assert query["redirect_uri"][0].endswith("/v1/oauth/callback")
    code, state = sim.consent(url)
    return httpx.get(f"{serve_url}/v1/oauth/callback", params={"code": code, "state": state})


def _webhook(serve_url: str, tenant: TenantClient, instance: str, secret: str, body: dict) -> str:
    raw = json.dumps(body).encode()
    response = httpx.post(
        f"{serve_url}/v1/webhooks/{tenant.id}/{instance}", content=raw,
        headers=signed(secret, raw, f"msg_{secrets.token_hex(6)}"),
    )  # fmt: skip
    assert response.status_code == 202, response.text
    return str(response.json()["delivery_id"])


def _wait(what: str, probe_fn: object, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if probe_fn():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _stored_refresh_token(test_services: TestServices, tenant_id: str, instance: str) -> str:
    async def read() -> str:
        db = Database(test_services.database_url)
        try:
            box = SecretBox(secrets_keys(load_settings(), create=False))
            credential = await CredentialStore(db, box).get(tenant_id, instance)
        finally:
            await db.close()
        assert credential is not None
        return credential.values["refresh_token"]

    return asyncio.run(read())


def test_3lo_dance_state_single_use_and_bound(
    serve_url: str, sim: Sim, probe: Path, test_services: TestServices
) -> None:
    tenant, secret = new_tenant(serve_url, "oa"), whsec()
    instance = _install(tenant, sim, secret)
    base = f"/v1/tenants/{tenant.id}/plugins/{instance}"
    early = tenant.http.post(f"{base}/oauth/start")
    assert early.status_code == 409, early.text  # no client configured yet
    configured = tenant.http.put(f"{base}/auth", json={
        "kind": CODE, "client_id": "demo-client", "client_secret": "demo-secret"})  # fmt: skip
    assert configured.status_code == 200, configured.text
    assert configured.json()["authorized"] is False and "demo-secret" not in configured.text
    assert tenant.http.post(f"{base}/enable").status_code == 200
    start = tenant.http.post(f"{base}/oauth/start").json()
    code, state = sim.consent(start["authorize_url"])
    done = httpx.get(f"{serve_url}/v1/oauth/callback", params={"code": code, "state": state})
    assert done.status_code == 200, done.text
    assert done.json()["authorized"] is True and "access_token" not in done.text
    replay = httpx.get(f"{serve_url}/v1/oauth/callback", params={"code": code, "state": state})
    assert replay.status_code == 409 and replay.json()["code"] == "oauth-state-used"
    assert replay.headers["content-type"].startswith("application/problem+json")
    payload, _, mac = state.partition(".")
    forged = httpx.get(f"{serve_url}/v1/oauth/callback",
                       params={"code": code, "state": f"{payload}x.{mac}"})  # fmt: skip
    assert forged.status_code == 400 and forged.json()["code"] == "oauth-state-invalid"
    # the token works: each delivery refreshes first (tokens are due) and calls Jira
    issued = _stored_refresh_token(test_services, tenant.id, instance)
    delivery = _webhook(serve_url, tenant, instance, secret, {"n": 1})
    wait_status(tenant, delivery, "done")
    assert _stored_refresh_token(test_services, tenant.id, instance) != issued  # rotated, stored
    view = tenant.http.get(base)
    assert view.status_code == 200 and "demo-secret" not in view.text
    assert "token" not in json.dumps(view.json().get("config"))


def test_revoked_refresh_needs_reauth_keeps_and_resumes_deliveries(
    serve_url: str, sim: Sim, probe: Path, test_services: TestServices
) -> None:
    tenant, secret = new_tenant(serve_url, "ob"), whsec()
    instance = _install(tenant, sim, secret)
    base = f"/v1/tenants/{tenant.id}/plugins/{instance}"
    tenant.http.put(f"{base}/auth", json={
        "kind": CODE, "client_id": "demo-client", "client_secret": "demo-secret"})  # fmt: skip
    assert tenant.http.post(f"{base}/enable").status_code == 200
    assert _authorize(serve_url, tenant, instance, sim).status_code == 200
    sim.revoke(_stored_refresh_token(test_services, tenant.id, instance))
    first = _webhook(serve_url, tenant, instance, secret, {"n": 1})
    _wait("needs_reauth", lambda: tenant.http.get(base).json()["state"] == "needs_reauth")
    second = _webhook(serve_url, tenant, instance, secret, {"n": 2})
    _wait("two kept deliveries", lambda: tenant.http.get(f"{base}/auth").json()[
        "held_deliveries"] == 2)  # fmt: skip
    health = tenant.http.get(f"{base}/health").json()
    assert health["status"] == "needs_reauth" and "invalid_grant" in health["detail"]
    rows = {r["id"]: r for r in tenant.http.get(f"/v1/tenants/{tenant.id}/deliveries").json()}
    for delivery in (first, second):
        assert rows[delivery]["status"] == "retrying"
        assert "re-authorized" in rows[delivery]["last_error"]
    assert tenant.http.get(f"/v1/tenants/{tenant.id}/dead-letters").json() == []
    audit = tenant.http.get(f"/v1/tenants/{tenant.id}/audit").text
    assert "instance.needs_reauth" in audit
    # a new authorization resumes the instance and its kept deliveries
    assert _authorize(serve_url, tenant, instance, sim).status_code == 200
    assert tenant.http.get(base).json()["state"] == "enabled"
    for delivery in (first, second):
        wait_status(tenant, delivery, "done")
    assert tenant.http.get(f"{base}/auth").json()["held_deliveries"] == 0


def test_a_new_api_token_resumes_too(
    serve_url: str, sim: Sim, probe: Path, test_services: TestServices
) -> None:
    tenant, secret = new_tenant(serve_url, "oc"), whsec()
    instance = _install(tenant, sim, secret)
    base = f"/v1/tenants/{tenant.id}/plugins/{instance}"
    wrong = {"kind": "api_token", "email": sim.config.user_email, "token": "wrong"}
    assert tenant.http.put(f"{base}/auth", json=wrong).status_code == 200
    assert tenant.http.post(f"{base}/enable").status_code == 200
    kept = _webhook(serve_url, tenant, instance, secret, {"n": 1})  # 401 → PluginAuthFailed
    _wait("needs_reauth", lambda: tenant.http.get(base).json()["state"] == "needs_reauth")
    _wait("kept", lambda: tenant.http.get(f"{base}/auth").json()["held_deliveries"] == 1)
    right = {**wrong, "token": sim.config.api_token}
    status = tenant.http.put(f"{base}/auth", json=right)
    assert status.status_code == 200 and sim.config.api_token not in status.text
    assert status.json()["state"] == "enabled"
    wait_status(tenant, kept, "done")


def test_another_tenant_cannot_touch_credentials(serve_url: str, sim: Sim, probe: Path) -> None:
    owner, intruder = new_tenant(serve_url, "od"), new_tenant(serve_url, "oe")
    instance = _install(owner, sim, whsec())
    base = f"/v1/tenants/{owner.id}/plugins/{instance}"
    owner.http.put(f"{base}/auth", json={
        "kind": CODE, "client_id": "demo-client", "client_secret": "demo-secret"})  # fmt: skip
    for method, path, body in [
        ("POST", f"{base}/oauth/start", None), ("GET", f"{base}/auth", None),
        ("PUT", f"{base}/auth", {"kind": "api_token", "email": "a@b.c", "token": "t"}),
    ]:  # fmt: skip
        response = intruder.http.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    # the intruder's own instance id on the owner's path, and a state of the owner's flow
    # completed by anyone still binds to the owner's instance only
    mine = _install(intruder, sim, whsec())
    assert intruder.http.get(f"/v1/tenants/{owner.id}/plugins/{mine}/auth").status_code == 404
    assert owner.http.get(f"/v1/tenants/{owner.id}/plugins/{mine}/auth").status_code == 404
    state = owner.http.post(f"{base}/oauth/start").json()["authorize_url"]
    foreign = parse_qs(urlsplit(state).query)["state"][0]
    payload, _, mac = foreign.partition(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert body["t"] == owner.id and body["i"] == instance  # bound to tenant + instance
    for field, value in (("t", intruder.id), ("i", mine)):
        swapped = base64.urlsafe_b64encode(json.dumps({**body, field: value}).encode()).decode()
        params = {"code": "x", "state": f"{swapped}.{mac}"}
        response = httpx.get(f"{serve_url}/v1/oauth/callback", params=params)
        assert response.status_code == 400, response.text  # the signature no longer matches
        assert response.json()["code"] == "oauth-state-invalid"


def test_egress_refusal_shows_in_last_error_and_health(
    serve_url: str, sim: Sim, probe: Path
) -> None:
    tenant, secret = new_tenant(serve_url, "of"), whsec()
    instance = _install(tenant, sim, secret)
    base = f"/v1/tenants/{tenant.id}/plugins/{instance}"
    token = {"kind": "api_token", "email": sim.config.user_email, "token": sim.config.api_token}
    assert tenant.http.put(f"{base}/auth", json=token).status_code == 200
    assert tenant.http.post(f"{base}/enable").status_code == 200
    delivery = _webhook(serve_url, tenant, instance, secret,
                        {"fetch": "http://169.254.169.254/latest/meta-data/"})  # fmt: skip
    dead = wait_status(tenant, delivery, "dead")  # permanent: no retries
    assert "EgressRefused" in dead["last_error"] and "metadata" in dead["last_error"]
    assert dead["attempts"] == 1
    health = tenant.http.get(f"{base}/health").json()
    assert "refused" in health["detail"] and "169.254.169.254" in health["detail"]
    other = _webhook(serve_url, tenant, instance, secret, {"fetch": "https://example.org/"})
    assert "EgressNotPermitted" in wait_status(tenant, other, "dead")["last_error"]


def test_client_credentials_and_refusals_while_setting_up(
    serve_url: str, sim: Sim, probe: Path
) -> None:
    tenant = new_tenant(serve_url, "og")
    instance = _install(tenant, sim, whsec())
    base = f"/v1/tenants/{tenant.id}/plugins/{instance}"
    graph = {"kind": "oauth2_client_credentials", "client_id": "demo-client"}
    wrong = tenant.http.put(f"{base}/auth", json={**graph, "client_secret": "wrong-S3CRET"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "oauth-grant-refused"
    assert "wrong-S3CRET" not in wrong.text
    assert tenant.http.get(f"{base}/auth").json()["kind"] is None  # nothing stored
    right = tenant.http.put(f"{base}/auth", json={**graph, "client_secret": "demo-secret"})
    assert right.status_code == 200, right.text
    status = right.json()
    assert status["kind"] == "oauth2_client_credentials" and status["authorized"] is True
    assert status["expires_at"] and "demo-secret" not in right.text
    # a malformed body is refused without echoing the secret
    partial = tenant.http.put(f"{base}/auth", json={"kind": "api_token", "token": "tok-S3CRET"})
    assert partial.status_code == 422 and "tok-S3CRET" not in partial.text
    unknown = tenant.http.put(f"{base}/auth", json={"kind": "personal_access_token", "token": "t"})
    assert unknown.status_code == 409  # the plugin does not declare this kind
    # an authorization code the provider refuses: 400, and the state is spent
    tenant.http.put(f"{base}/auth", json={
        "kind": CODE, "client_id": "demo-client", "client_secret": "demo-secret"})  # fmt: skip
    url = tenant.http.post(f"{base}/oauth/start").json()["authorize_url"]
    state = parse_qs(urlsplit(url).query)["state"][0]
    bogus = httpx.get(f"{serve_url}/v1/oauth/callback", params={"code": "bogus", "state": state})
    assert bogus.status_code == 400 and bogus.json()["code"] == "oauth-grant-refused"
    denied = httpx.get(f"{serve_url}/v1/oauth/callback",
                       params={"error": "access_denied", "state": state})  # fmt: skip
    assert denied.status_code == 400 and denied.json()["code"] == "oauth-denied"


def test_events_are_kept_too_and_resumed(
    serve_url: str, sim: Sim, probe: Path, db_fetch: object
) -> None:
    tenant, secret = new_tenant(serve_url, "oh"), whsec()
    source = install_generic(tenant, "source", secret)
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{source['id']}/enable").is_success
    instance = _install(tenant, sim, whsec())
    base = f"/v1/tenants/{tenant.id}/plugins/{instance}"
    wrong = {"kind": "api_token", "email": sim.config.user_email, "token": "wrong"}
    assert tenant.http.put(f"{base}/auth", json=wrong).status_code == 200
    assert tenant.http.post(f"{base}/enable").status_code == 200
    _webhook(serve_url, tenant, source["id"], secret, {"build": 1})  # → a generic.build event
    _wait("needs_reauth", lambda: tenant.http.get(base).json()["state"] == "needs_reauth")
    _webhook(serve_url, tenant, source["id"], secret, {"build": 2})
    _wait("two kept events", lambda: tenant.http.get(f"{base}/auth").json()[
        "held_deliveries"] == 2)  # fmt: skip
    right = {**wrong, "token": sim.config.api_token}
    assert tenant.http.put(f"{base}/auth", json=right).json()["state"] == "enabled"

    def seen() -> int:
        rows = db_fetch(  # type: ignore[operator]
            "SELECT count(*) AS n FROM instance_kv WHERE instance_id = $1"
            " AND key LIKE 'seen-event/%'", instance,
        )  # fmt: skip
        return int(rows[0]["n"])

    _wait("both events handled", lambda: seen() == 2)
    probe_rows = [r for r in tenant.http.get(f"/v1/tenants/{tenant.id}/deliveries").json()
                  if r["instance_id"] == instance]  # fmt: skip
    assert len(probe_rows) == 2 and all(r["status"] == "done" for r in probe_rows)
