"""Helpers of the webhook tests: signing, waiting for a delivery, counting plugin side effects."""

from __future__ import annotations

import json
import time

from core.signing import sign_standard
from tests.serve_app.api_client import TenantClient


def signed(secret: str, body: bytes, msg_id: str, ts: int | None = None) -> dict[str, str]:
    stamp = str(ts if ts is not None else int(time.time()))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": sign_standard(secret, msg_id, int(stamp), body),
        "content-type": "application/json",
    }


def wait_status(tenant: TenantClient, delivery_id: str, want: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    found: dict = {}
    while time.monotonic() < deadline:
        rows = tenant.http.get(f"/v1/tenants/{tenant.id}/deliveries").json()
        found = next((r for r in rows if r["id"] == delivery_id), {})
        if found.get("status") == want:
            return found
        time.sleep(0.3)
    raise AssertionError(f"delivery {delivery_id} not {want}: {found}")


def counter_instance(
    tenant: TenantClient, secret: str, mode: str = "ok", name: str = "counter"
) -> str:
    base = f"/v1/tenants/{tenant.id}/plugins"
    created = tenant.http.post(base, json={
        "plugin": "effect-counter", "version": "1.0.0", "name": name,
        "config": {"mode": mode, "label": "x"}, "secrets": {"signing_secret": secret},
    })  # fmt: skip
    assert created.status_code == 201, created.text
    iid = created.json()["id"]
    assert tenant.http.post(f"{base}/{iid}/enable").status_code == 200
    return iid


def effects(test_db_fetch, instance_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = test_db_fetch(
        "SELECT key, value FROM instance_kv WHERE instance_id = $1 AND key LIKE 'effect/%'",
        instance_id,
    )
    return {r["key"]: json.loads(r["value"]) for r in rows}
