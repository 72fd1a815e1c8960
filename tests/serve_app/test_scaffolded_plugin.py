"""A plugin written by `plugin new`, loaded at runtime, through its lifecycle in the service."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from serve_app.cli.main import main
from tests.serve_app.api_client import new_tenant, operator, whsec
from tests.serve_app.webhook_helpers import signed, wait_status


def test_scaffolded_plugin_lifecycle(serve_url: str, tmp_path: Path) -> None:
    assert main(["plugin", "new", "acme-widget", "--dir", str(tmp_path)]) == 0
    with operator(serve_url) as op:
        loaded = op.post("/v1/plugins/sources", json={"path": str(tmp_path / "acme-widget")})
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["loaded"] == ["acme-widget@0.1.0"]
    tenant = new_tenant(serve_url)
    assert "acme-widget" in [p["name"] for p in tenant.http.get("/v1/plugins").json()]
    base = f"/v1/tenants/{tenant.id}/plugins"
    secret = whsec()
    bad = tenant.http.post(base, json={"plugin": "acme-widget", "name": "w",
                                       "config": {"project_key": "lower"},
                                       "secrets": {"signing_secret": secret}})  # fmt: skip
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/project_key"]
    created = tenant.http.post(base, json={"plugin": "acme-widget", "name": "w",
                                           "config": {"project_key": "ACME"},
                                           "secrets": {"signing_secret": secret}})  # fmt: skip
    assert created.status_code == 201, created.text
    iid = created.json()["id"]
    assert tenant.http.post(f"{base}/{iid}/enable").json()["state"] == "enabled"
    body = json.dumps({"type": "push", "id": 7}).encode()
    response = httpx.post(f"{serve_url}/v1/webhooks/{tenant.id}/{iid}", content=body,
                          headers=signed(secret, body, "scaffold-1"))  # fmt: skip
    assert response.status_code == 202, response.text
    wait_status(tenant, response.json()["delivery_id"], "done")
    assert tenant.http.get(f"{base}/{iid}/health").json()["status"] == "ok"
    assert tenant.http.post(f"{base}/{iid}/disable").json()["state"] == "disabled"
    assert tenant.http.delete(f"{base}/{iid}").status_code == 204
    assert tenant.http.get(base).json() == []
