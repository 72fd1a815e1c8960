"""Property test: whatever bodies and headers arrive, the ingest answers 2xx/4xx, never 5xx."""

from __future__ import annotations

import json
import time

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.signing import sign_standard
from tests.serve_app.api_client import install_generic, new_tenant, whsec

# Printable ASCII without surrounding blanks: what an HTTP client can put on the wire at all.
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=300).map(
    str.strip
)
HEADER_NAMES = st.sampled_from([
    "webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "x-hub-signature",
    "authorization", "x-request-uuid", "x-hook-uuid", "x-atlassian-webhook-identifier",
    "x-request-id", "x-event-key", "content-encoding", "transfer-encoding-x",
])  # fmt: skip
BODIES = st.one_of(
    st.binary(max_size=4096),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
        max_leaves=20,
    ).map(lambda v: json.dumps(v).encode()),
)


class _Target:
    url = ""
    secret = ""


TARGET = _Target()


def _setup(serve_url: str) -> None:
    if TARGET.url:
        return
    tenant = new_tenant(serve_url, "fuzz")
    TARGET.secret = whsec()
    iid = install_generic(tenant, "fuzz", secret=TARGET.secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{iid}/enable").status_code == 200
    TARGET.url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=BODIES,
    headers=st.dictionaries(HEADER_NAMES, HEADER_TEXT, max_size=6),
    sign=st.booleans(),
)
def test_no_5xx_for_any_body_or_headers(
    serve_url: str, body: bytes, headers: dict[str, str], sign: bool
) -> None:
    _setup(serve_url)
    if sign:
        msg_id = headers.get("webhook-id") or "fuzz"
        stamp = int(time.time())
        headers = {
            **headers, "webhook-id": msg_id, "webhook-timestamp": str(stamp),
            "webhook-signature": sign_standard(TARGET.secret, msg_id, stamp, body),
        }  # fmt: skip
    response = httpx.post(TARGET.url, content=body, headers=headers, timeout=30)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
