"""Tenant isolation matrix: every tenant-scoped route, enumerated from the OpenAPI document.

Tenant B's key on tenant A's resources gets 404 (never 403, never data): existence does not leak.
New routes with ``{tenant}`` in their path are covered automatically.
"""

from __future__ import annotations

import re

import httpx

from tests.serve_app.api_client import install_generic, new_tenant


def _tenant_routes(serve_url: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{serve_url}/openapi.json").json()
    return [
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        if "{tenant}" in path
        for method in ops
    ]


def test_other_tenants_key_gets_404_everywhere(serve_url: str) -> None:
    owner = new_tenant(serve_url, "owner")
    intruder = new_tenant(serve_url, "intruder")
    instance = install_generic(owner)
    key_id = owner.http.get(f"/v1/tenants/{owner.id}/keys").json()[0]["id"]
    values = {"tenant": owner.id, "instance": instance["id"], "key_id": key_id}
    routes = _tenant_routes(serve_url)
    assert len(routes) >= 12, routes
    failures = []
    for method, template in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], "x-unknown"), template)
        body = {} if method in ("POST", "PATCH", "PUT") else None
        response = intruder.http.request(method, path, json=body)
        leaked = [f for f in ("secrets_set", "config", "created_at") if f in response.text]
        if response.status_code != 404 or response.json().get("code") != "not-found" or leaked:
            failures.append(f"{method} {template}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    # The owner's instance is untouched by the attempts.
    mine = owner.http.get(f"/v1/tenants/{owner.id}/plugins/{instance['id']}")
    assert mine.status_code == 200
    assert mine.json()["state"] == "installed"


def test_unknown_tenant_and_foreign_tenant_look_the_same(serve_url: str) -> None:
    owner = new_tenant(serve_url, "owner")
    intruder = new_tenant(serve_url, "intruder")
    foreign = intruder.http.get(f"/v1/tenants/{owner.id}/plugins")
    missing = intruder.http.get("/v1/tenants/no-such-tenant/plugins")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["title"] == missing.json()["title"]
