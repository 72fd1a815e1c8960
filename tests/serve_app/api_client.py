"""Small helpers for API tests: an operator client and tenants created through the API."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import httpx

from tests.conftest import OPERATOR_KEY


def whsec() -> str:
    """A Standard Webhooks signing secret."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def operator(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {OPERATOR_KEY}"}, timeout=60
    )


@dataclass
class TenantClient:
    id: str
    key: str
    http: httpx.Client


def new_tenant(base_url: str, prefix: str = "t") -> TenantClient:
    tenant_id = f"{prefix}-{secrets.token_hex(4)}"
    with operator(base_url) as op:
        response = op.post("/v1/tenants", json={"id": tenant_id, "name": f"Tenant {tenant_id}"})
    assert response.status_code == 201, response.text
    key = response.json()["api_key"]["key"]
    client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    return TenantClient(tenant_id, key, client)


def install_generic(tenant: TenantClient, name: str = "hooks", secret: str | None = None) -> dict:
    response = tenant.http.post(
        f"/v1/tenants/{tenant.id}/plugins",
        json={
            "plugin": "generic-webhook",
            "name": name,
            "config": {"event_type": "generic.build"},
            "secrets": {"signing_secret": secret or whsec()},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()
