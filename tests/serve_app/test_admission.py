"""Admission control of the webhook ingest, through the real data plane (HAProxy → replica).

The session's app is redeployed with a low in-flight bound (Serve ``user_config``
``webhooks_max_inflight``, applied by ``Ingress.reconfigure``) for this module and deployed as the
session had it afterwards. The session's app keeps one deployment version
(``tests.conftest.session_app``), so both redeploys only reconfigure the running replica, as a
changed ``user_config`` does for `up`'s declarative deploys. Slots are held deterministically
by requests whose body has not arrived yet (the ingest counts a request from its first byte,
before reading the body), so no assertion depends on timing.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import nats
import pytest

from actors.pacing import pressure_subject
from core.settings import load_settings
from tests.conftest import USER_CONFIG, TestServices, session_app
from tests.serve_app.api_client import TenantClient, install_generic, new_tenant, whsec
from tests.serve_app.webhook_helpers import signed, wait_status

BOUND = 2
WAIT_S = 60.0
DbFetch = Callable[..., list[Any]]


def _deploy(user_config: dict[str, Any]) -> None:
    from ray import serve

    from serve_app.app import AppArgs, Ingress

    # the session's version: only the user_config changes, so Serve reconfigures the running
    # replica in place (Ingress.reconfigure), as it does for `up`'s declarative deploys
    serve.run(session_app(Ingress, AppArgs(), user_config), name="dcoder", route_prefix="/")


def _gauge(serve_url: str, name: str) -> float | None:
    text = httpx.get(f"{serve_url}/metrics", timeout=30).text
    found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    return float(found[1]) if found else None


def _wait_gauge(serve_url: str, name: str, want: float) -> None:
    deadline = time.monotonic() + WAIT_S
    seen = None
    while time.monotonic() < deadline:
        seen = _gauge(serve_url, name)
        if seen == want:
            return
        time.sleep(0.2)
    raise AssertionError(f"{name} is {seen}, not {want}, after {WAIT_S:.0f} s")


@pytest.fixture(scope="module")
def low_bound(serve_url: str) -> Iterator[int]:
    _deploy({**USER_CONFIG, "webhooks_max_inflight": BOUND})
    _wait_gauge(serve_url, "dcoder_webhook_ingest_inflight_limit", BOUND)
    try:
        yield BOUND
    finally:
        # as conftest deployed it: the bound is DCODER_WEBHOOKS_MAX_INFLIGHT again
        _deploy(USER_CONFIG)
        _wait_gauge(
            serve_url, "dcoder_webhook_ingest_inflight_limit",
            load_settings().webhooks.max_inflight,
        )  # fmt: skip


@pytest.fixture
def hooks(serve_url: str, low_bound: int) -> tuple[TenantClient, str, str]:
    tenant = new_tenant(serve_url, "adm")
    secret = whsec()
    iid = install_generic(tenant, secret=secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{iid}/enable").status_code == 200
    return tenant, iid, secret


class HeldRequest:
    """A signed webhook whose headers are sent and whose body is held back."""

    def __init__(self, serve_url: str, path: str, secret: str, msg_id: str) -> None:
        self.body = json.dumps({"type": "held", "id": msg_id}).encode()
        url = urlsplit(serve_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=WAIT_S)
        head = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}",
                f"Content-Length: {len(self.body)}", "Connection: close"]  # fmt: skip
        head += [f"{k}: {v}" for k, v in signed(secret, self.body, msg_id).items()]
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())

    def finish(self) -> tuple[int, dict[str, str]]:
        """Send the body; the status and JSON answer."""
        self.sock.sendall(self.body)
        raw = b""
        while chunk := self.sock.recv(65536):
            raw += chunk
        self.sock.close()
        head, _, payload = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if b"transfer-encoding: chunked" in head.lower():
            payload = payload.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0]
        return status, json.loads(payload)


def _no_rows(db_fetch: DbFetch, tenant: TenantClient, msg_ids: list[str]) -> bool:
    keys = [f"std:{m}" for m in msg_ids]
    rows = db_fetch(
        "SELECT id FROM deliveries WHERE tenant_id = $1 AND idempotency_key = ANY($2)",
        tenant.id, keys,
    )  # fmt: skip
    return not rows


def test_past_the_bound_a_webhook_gets_503_with_retry_after_and_leaves_nothing(
    serve_url: str, hooks: tuple[TenantClient, str, str], db_fetch: DbFetch
) -> None:
    tenant, iid, secret = hooks
    path = f"/v1/webhooks/{tenant.id}/{iid}"
    body = b'{"type": "before"}'
    first = httpx.post(serve_url + path, content=body, headers=signed(secret, body, "adm-0"))
    assert first.status_code == 202, first.text  # under the bound: accepted as always
    run = secrets.token_hex(3)
    held = [HeldRequest(serve_url, path, secret, f"adm-held-{run}-{n}") for n in range(BOUND)]
    _wait_gauge(serve_url, "dcoder_webhook_ingest_inflight", BOUND)

    shed_ids = [f"adm-shed-{run}-{n}" for n in range(3)]
    for msg_id in shed_ids:
        body = json.dumps({"type": "shed", "id": msg_id}).encode()
        refused = httpx.post(serve_url + path, content=body, headers=signed(secret, body, msg_id))
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["code"] == "overloaded"
    assert _no_rows(db_fetch, tenant, shed_ids)  # nothing recorded, nothing queued
    text = httpx.get(f"{serve_url}/metrics").text
    shed = re.search(
        r'^dcoder_webhook_deliveries_total\{outcome="shed",plugin="generic-webhook"\} ([0-9.]+)$',
        text, re.M,
    )  # fmt: skip
    assert shed is not None and float(shed[1]) >= len(shed_ids), text[-2000:]

    # The held requests complete: each 202 is a durable delivery that the relay then handles.
    for request in held:
        status, answer = request.finish()
        assert status == 202, answer
        wait_status(tenant, answer["delivery_id"], "done")

    # Load dropped: the slots are free again and the sender's retries are accepted.
    _wait_gauge(serve_url, "dcoder_webhook_ingest_inflight", 0)
    for msg_id in shed_ids:
        body = json.dumps({"type": "shed", "id": msg_id}).encode()
        retried = httpx.post(serve_url + path, content=body, headers=signed(secret, body, msg_id))
        assert retried.status_code == 202, retried.text
        wait_status(tenant, retried.json()["delivery_id"], "done")


def test_a_burst_is_accepted_or_shed_never_half_written(
    serve_url: str, hooks: tuple[TenantClient, str, str], db_fetch: DbFetch
) -> None:
    tenant, iid, secret = hooks
    url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"
    run = secrets.token_hex(3)
    msg_ids = [f"adm-burst-{run}-{n}" for n in range(24)]  # under the tenant's burst of 30

    def send(msg_id: str) -> httpx.Response:
        body = json.dumps({"type": "burst", "id": msg_id}).encode()
        return httpx.post(url, content=body, headers=signed(secret, body, msg_id), timeout=WAIT_S)

    with ThreadPoolExecutor(len(msg_ids)) as pool:
        first = dict(zip(msg_ids, pool.map(send, msg_ids), strict=True))
    assert {r.status_code for r in first.values()} <= {202, 503}
    shed = [m for m, r in first.items() if r.status_code == 503]
    assert _no_rows(db_fetch, tenant, shed)
    assert all(int(first[m].headers["retry-after"]) >= 1 for m in shed)

    # A sender retries each 503 (bounded): in the end every delivery is accepted exactly once.
    accepted = {m: r.json()["delivery_id"] for m, r in first.items() if r.status_code == 202}
    for _ in range(20):
        if len(accepted) == len(msg_ids):
            break
        time.sleep(1.0)  # Retry-After
        for msg_id in [m for m in msg_ids if m not in accepted]:
            again = send(msg_id)
            assert again.status_code in (202, 503), again.text
            if again.status_code == 202:
                accepted[msg_id] = again.json()["delivery_id"]
    assert len(accepted) == len(msg_ids)
    for delivery_id in accepted.values():
        assert wait_status(tenant, delivery_id, "done")["attempts"] == 1
    rows = db_fetch("SELECT count(*) AS n FROM deliveries WHERE tenant_id = $1", tenant.id)
    assert rows[0]["n"] == len(msg_ids)


def test_the_replica_tells_the_relays_how_its_ingest_is_doing(
    serve_url: str, hooks: tuple[TenantClient, str, str], test_services: TestServices
) -> None:
    tenant, iid, secret = hooks
    url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"

    async def first_report() -> dict[str, object]:
        nc = await nats.connect(test_services.nats_url)
        try:
            sub = await nc.subscribe(pressure_subject(test_services.namespace))
            async with httpx.AsyncClient(timeout=WAIT_S) as client:
                for n in range(100):  # a report goes out at most every 250 ms, after a request
                    body = json.dumps({"type": "pressure", "n": n}).encode()
                    sent = await client.post(
                        url, content=body, headers=signed(secret, body, f"p{n}")
                    )
                    assert sent.status_code == 202, sent.text
                    try:
                        msg = await sub.next_msg(timeout=0.5)
                    except nats.errors.TimeoutError:
                        continue
                    return dict(json.loads(msg.data))
            raise AssertionError("no pressure report on core NATS")
        finally:
            await nc.close()

    report = asyncio.run(first_report())
    assert report["limit"] == BOUND
    assert isinstance(report["inflight"], int) and 0 <= report["inflight"] <= BOUND
    assert float(report["latency_ms"]) > 0  # type: ignore[arg-type]
    assert report["replica"]
