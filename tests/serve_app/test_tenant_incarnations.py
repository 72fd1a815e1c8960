"""A tenant id deleted and created again is a new tenant: it sees nothing of the former one.

The operator still reads everything, the deletion included, through ``GET /v1/audit``.
"""

from __future__ import annotations

import json
import secrets

import httpx

from tests.serve_app.api_client import install_generic, operator, whsec
from tests.serve_app.webhook_helpers import signed, wait_status


def _create(op: httpx.Client, serve_url: str, tenant_id: str) -> httpx.Client:
    created = op.post("/v1/tenants", json={"id": tenant_id, "name": "Reborn"})
    assert created.status_code == 201, created.text
    key = created.json()["api_key"]["key"]
    return httpx.Client(base_url=serve_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def test_a_recreated_tenant_sees_nothing_of_its_former_incarnation(serve_url: str) -> None:
    tenant_id = f"reborn-{secrets.token_hex(4)}"
    base = f"/v1/tenants/{tenant_id}"
    with operator(serve_url) as op:
        old = _create(op, serve_url, tenant_id)
        secret = whsec()
        from tests.serve_app.api_client import TenantClient

        iid = install_generic(TenantClient(tenant_id, "", old), secret=secret)["id"]
        assert old.post(f"{base}/plugins/{iid}/enable").status_code == 200
        assert old.post(f"{base}/keys", json={}).status_code == 201
        body = json.dumps({"type": "build.done"}).encode()
        hook = f"{serve_url}/v1/webhooks/{tenant_id}/{iid}"
        accepted = httpx.post(hook, content=body, headers=signed(secret, body, "m1"))
        assert accepted.status_code == 202, accepted.text
        wait_status(TenantClient(tenant_id, "", old), accepted.json()["delivery_id"], "done")
        old_actions = {r["action"] for r in old.get(f"{base}/audit").json()}
        assert {"tenant.create", "instance.install", "key.issue"} <= old_actions, old_actions

        assert op.delete(base).status_code == 204
        new = _create(op, serve_url, tenant_id)

        assert old.get(base).status_code == 401  # the former keys died with it
        trail = new.get(f"{base}/audit").json()
        assert [r["action"] for r in trail] == ["tenant.create"], trail
        assert new.get(f"{base}/plugins").json() == []
        assert new.get(f"{base}/plugins/{iid}").status_code == 404  # not even from a cache
        assert new.get(f"{base}/deliveries").json() == []
        assert new.get(f"{base}/dead-letters").json() == []
        assert len(new.get(f"{base}/keys").json()) == 1
        again = httpx.post(hook, content=body, headers=signed(secret, body, "m2"))
        assert again.status_code == 404, again.text  # the former instance takes no webhooks

        # The operator reads both incarnations and the deletion between them.
        everything = op.get("/v1/audit", params={"tenant": tenant_id}).json()
        actions = [r["action"] for r in everything]
        assert actions[:2] == ["tenant.create", "tenant.delete"], actions
        assert old_actions <= set(actions)
        deletion = everything[1]
        assert deletion["incarnation"] and deletion["incarnation"] != everything[0]["incarnation"]
        assert {r["incarnation"] for r in everything[1:]} == {deletion["incarnation"]}
        page = op.get("/v1/audit", params={"tenant": tenant_id, "before": deletion["id"]})
        assert all(r["id"] < deletion["id"] for r in page.json())
        assert new.get("/v1/audit").status_code == 403  # the operator's view only
        assert op.get("/v1/audit?tenant=x%00").status_code == 400
        new.close()
        old.close()
