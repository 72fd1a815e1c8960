"""The ``sha256:<body>`` de-duplication fallback, through the real data plane.

A sender without a delivery id (Bitbucket Data Center signs with ``X-Hub-Signature`` only) gets
its repeats recognised by the body's hash, although HAProxy stamps a fresh ``X-Request-Id`` on
every request.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from core.signing import sign_hub_signature
from tests.fixtures.counter_plugin import PLUGIN, manifest
from tests.serve_app.api_client import new_tenant, operator


def _hmac_counter(root: Path) -> Path:
    """``effect-counter``'s code as ``hmac-counter``, verified by X-Hub-Signature (no id)."""
    folder = root / "hmac_counter"
    folder.mkdir(parents=True)
    spec = manifest("1.0.0") | {"name": "hmac-counter"}
    spec["webhook"] = {"scheme": "atlassian-hmac", "secret": "signing_secret"}
    spec["secrets"] = [{"name": "signing_secret", "description": "HMAC secret", "required": True}]
    (folder / "__init__.py").write_text("")
    (folder / "manifest.json").write_text(json.dumps(spec))
    (folder / "plugin.py").write_text(PLUGIN.format(version="1.0.0"))
    return folder


def test_a_repeat_without_a_delivery_id_is_recognised_by_its_body(
    serve_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = _hmac_counter(tmp_path_factory.mktemp("hmac"))
    with operator(serve_url) as op:
        loaded = op.post("/v1/plugins/sources", json={"path": str(folder)})
        assert loaded.status_code == 201, loaded.text
    tenant = new_tenant(serve_url, "hash")
    base = f"/v1/tenants/{tenant.id}/plugins"
    created = tenant.http.post(base, json={
        "plugin": "hmac-counter", "name": "dc", "config": {"mode": "ok"},
        "secrets": {"signing_secret": "s3cret"},
    })  # fmt: skip
    assert created.status_code == 201, created.text
    iid = created.json()["id"]
    assert tenant.http.post(f"{base}/{iid}/enable").status_code == 200
    url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"

    def send(body: bytes) -> httpx.Response:
        headers = {
            "content-type": "application/json",
            "x-hub-signature": sign_hub_signature("s3cret", body),
        }
        return httpx.post(url, content=body, headers=headers)

    body = b'{"eventKey": "repo:refs_changed", "n": 1}'
    first, again = send(body), send(body)
    assert first.status_code == 202, first.text
    assert again.status_code == 200, again.text
    assert again.json() == {"delivery_id": first.json()["delivery_id"], "duplicate": True}
    other = send(b'{"eventKey": "repo:refs_changed", "n": 2}')
    assert other.status_code == 202 and other.json()["delivery_id"] != first.json()["delivery_id"]
    rows = tenant.http.get(f"/v1/tenants/{tenant.id}/deliveries").json()
    keys = sorted(r["idempotency_key"] for r in rows if r["instance_id"] == iid)
    assert len(keys) == 2 and all(k.startswith("sha256:") for k in keys), keys
