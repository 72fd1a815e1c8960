"""A webhook whose client leaves during the durable write (Serve cancels the request) is still
recorded, published and handled, and holds its admission slot until the write ends (issue #19:
under overload such requests left their rows 'accepted' without a message).

Real PostgreSQL, NATS, tenant hosts and relay of the test session's service; the write is held
at a deterministic point by a table lock taken in another PostgreSQL session.
"""

from __future__ import annotations

import asyncio
import json
import time

import asyncpg
from starlette.requests import Request

from actors.handles import TenantClient
from core.bus import Bus
from core.db import Database
from core.endpoints import database_url, nats_url
from core.settings import load_settings
from core.signing import sign_standard
from core.webhooks.deliveries import DeliveryStore
from serve_app.ingest import WebhookIngest, delivery_id_for
from tests.serve_app.api_client import install_generic, new_tenant, whsec


def _request(path: str, secret: str, msg_id: str, body: bytes) -> Request:
    stamp = int(time.time())
    headers = {
        "content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard(secret, msg_id, stamp, body),
    }  # fmt: skip
    scope = {
        "type": "http", "method": "POST", "path": path, "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


async def _until(check, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_request_cut_off_during_its_write_is_still_delivered(serve_url: str) -> None:
    tenant = new_tenant(serve_url, "cut")
    secret = whsec()
    iid = install_generic(tenant, secret=secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{iid}/enable").status_code == 200
    settings = load_settings()
    db = Database(database_url(settings), settings.database)
    hosts = TenantClient(settings.ray.namespace, settings.ray.tenant_hosts)
    bus = Bus(nats_url(settings), settings.nats)
    ingest = WebhookIngest(settings.webhooks, hosts, bus, DeliveryStore(db))
    body = json.dumps({"type": "build.finished"}).encode()
    request = _request(f"/v1/webhooks/{tenant.id}/{iid}", secret, "cut-1", body)
    await ingest.profile(tenant.id, iid)  # cached: only the write is left to wait on
    blocker = await asyncpg.connect(database_url(settings))
    try:
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("LOCK TABLE deliveries IN EXCLUSIVE MODE")  # INSERTs wait
        accepting = asyncio.create_task(ingest.accept(tenant.id, iid, request))

        async def waiting_on_the_lock() -> bool:
            return bool(await blocker.fetchval(
                "SELECT count(*) FROM pg_locks WHERE NOT granted"
                " AND relation = 'deliveries'::regclass"
            ))  # fmt: skip

        await _until(waiting_on_the_lock)
        accepting.cancel()  # the client left; Serve cancels the request
        try:
            await accepting
        except asyncio.CancelledError:
            pass
        assert ingest.admission.inflight == 1  # its write still holds the slot
        await lock.rollback()
    finally:
        await blocker.close()

    async def slot_free() -> bool:
        return ingest.admission.inflight == 0

    await _until(slot_free)
    store = DeliveryStore(db)
    delivery_id = delivery_id_for(tenant.id, iid, "std:cut-1")

    async def handled() -> bool:
        return (await store.get(tenant.id, delivery_id)).status == "done"

    await _until(handled)  # published, so the relay handled it
    await db.close()
