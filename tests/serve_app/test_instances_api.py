"""The plugin-instance lifecycle over HTTP, through Ray Serve, tenant actors and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.serve_app.api_client import install_generic, new_tenant, operator, whsec


def test_catalog_lists_generic_webhook(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    catalog = tenant.http.get("/v1/plugins").json()
    entry = next(e for e in catalog if e["name"] == "generic-webhook")
    assert entry["status"] == "ok"
    assert "1.0.0" in entry["versions"]
    assert entry["config_schema"]["properties"]["event_type"]
    one = tenant.http.get("/v1/plugins/generic-webhook")
    assert one.status_code == 200
    assert tenant.http.get("/v1/plugins/no-such-plugin").status_code == 404


def test_full_lifecycle(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    base = f"/v1/tenants/{tenant.id}/plugins"
    created = install_generic(tenant)
    assert created["state"] == "installed"
    assert created["secrets_set"] == ["signing_secret"]
    iid = created["id"]

    enabled = tenant.http.post(f"{base}/{iid}/enable")
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["state"] == "enabled"
    assert tenant.http.post(f"{base}/{iid}/enable").status_code == 409

    patched = tenant.http.patch(f"{base}/{iid}", json={"config": {"event_type": "generic.deploy"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["config"]["event_type"] == "generic.deploy"

    health = tenant.http.get(f"{base}/{iid}/health")
    assert health.status_code == 200
    assert health.json()["state"] == "enabled"

    assert tenant.http.post(f"{base}/{iid}/disable").json()["state"] == "disabled"
    listed = tenant.http.get(base).json()
    assert [i["id"] for i in listed] == [iid]

    assert tenant.http.delete(f"{base}/{iid}").status_code == 204
    assert tenant.http.get(f"{base}/{iid}").status_code == 404
    actions = [r["action"] for r in tenant.http.get(f"/v1/tenants/{tenant.id}/audit").json()]
    for action in ("instance.install", "instance.enable", "instance.configure",
                   "instance.disable", "instance.uninstall"):  # fmt: skip
        assert action in actions


def test_bad_config_is_422_pointing_at_the_field(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    response = tenant.http.post(
        f"/v1/tenants/{tenant.id}/plugins",
        json={"plugin": "generic-webhook", "name": "bad", "config": {"event_type": "nope"},
              "secrets": {"signing_secret": whsec()}},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    pointers = [e["pointer"] for e in response.json()["errors"]]
    assert "/event_type" in pointers
    assert tenant.http.get(f"/v1/tenants/{tenant.id}/plugins").json() == []


def test_configure_hook_failure_writes_nothing(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    response = tenant.http.post(
        f"/v1/tenants/{tenant.id}/plugins",
        json={"plugin": "generic-webhook", "name": "weak", "config": {},
              "secrets": {"signing_secret": "whsec_c2hvcnQ="}},
    )  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "plugin-config-invalid"
    assert tenant.http.get(f"/v1/tenants/{tenant.id}/plugins").json() == []


def test_duplicate_name_is_409(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    install_generic(tenant, "same")
    again = tenant.http.post(
        f"/v1/tenants/{tenant.id}/plugins",
        json={"plugin": "generic-webhook", "name": "same", "secrets": {"signing_secret": whsec()}},
    )
    assert again.status_code == 409


def test_keys_rotate_and_revoke(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    rotated = tenant.http.post(f"/v1/tenants/{tenant.id}/keys", json={"revoke_others": True})
    assert rotated.status_code == 201
    new_key = rotated.json()["key"]
    assert tenant.http.get(f"/v1/tenants/{tenant.id}").status_code == 401
    fresh = httpx.Client(base_url=serve_url, headers={"Authorization": f"Bearer {new_key}"})
    assert fresh.get(f"/v1/tenants/{tenant.id}").status_code == 200
    keys = fresh.get(f"/v1/tenants/{tenant.id}/keys").json()
    assert all("key" not in k for k in keys)
    live = [k["id"] for k in keys if k["revoked_at"] is None]
    assert fresh.delete(f"/v1/tenants/{tenant.id}/keys/{live[0]}").status_code == 204
    assert fresh.get(f"/v1/tenants/{tenant.id}").status_code == 401


def test_operator_only_endpoints(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    assert tenant.http.post("/v1/tenants", json={"id": "x-y", "name": "x"}).status_code == 403
    assert httpx.post(f"{serve_url}/v1/tenants", json={"id": "x-y", "name": "x"}).status_code == 401
    with operator(serve_url) as op:
        bad = op.post("/v1/tenants", json={"id": "Bad Id!", "name": "x"})
        assert bad.status_code == 422
        assert op.post("/v1/tenants", json={"id": tenant.id, "name": "dup"}).status_code == 409
