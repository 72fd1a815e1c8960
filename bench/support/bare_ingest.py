"""The baseline of the webhook benchmark: the ingest's work on one bare uvicorn worker.

Same route shape and the same work per request as ``serve_app.ingest.WebhookIngest.accept``:
``verify_delivery`` on the raw body, JSON checks, the same idempotency key and delivery id, a
PostgreSQL ``INSERT ... ON CONFLICT`` shaped like ``DeliveryStore.record_accepted`` (into its own
table), a JetStream publish with a message id (own stream), then 202. What it leaves out is
exactly what the service adds: Ray Serve's proxy hop, the tenant actor (the signing secret and
profile are in memory here), rate limiting and the metrics middleware.

Configured by environment: BENCH_DATABASE_URL, BENCH_NATS_URL, BENCH_SECRET.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import nats
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nats.js.api import StreamConfig

from core.bus import Subjects, stream_configs
from core.db.pool import keep_session
from core.settings import NatsSettings
from core.webhooks.verify import idempotency_key, verify_delivery
from plugin_sdk.events import WebhookDelivery, event_key_of, strip_auth_headers
from plugin_sdk.manifest import Manifest
from plugins.registry import PluginRegistry
from serve_app.ingest import delivery_id_for

NAMESPACE = "benchbare"
TABLE = "bench_bare_deliveries"
INSERT = f"""
WITH ins AS (
    INSERT INTO {TABLE} (id, tenant_id, instance_id, plugin, idempotency_key, event_key, status,
                         received_at)
    SELECT $1, i.tenant_id, i.id, i.plugin, $4, $5, 'accepted', now()
    FROM plugin_instances i WHERE i.id = $3 AND i.tenant_id = $2
    ON CONFLICT (tenant_id, instance_id, idempotency_key) DO NOTHING
    RETURNING id)
SELECT id, true AS is_new FROM ins
UNION ALL
SELECT id, false FROM {TABLE} WHERE tenant_id = $2 AND instance_id = $3 AND idempotency_key = $4
LIMIT 1
"""  # noqa: S608 - constant table name


def stream() -> StreamConfig:
    """The baseline's own webhooks stream, configured exactly like the service's."""
    settings = NatsSettings(namespace=NAMESPACE)
    return stream_configs(settings)[f"{NAMESPACE.upper()}_WEBHOOKS"]


async def prepare(database_url: str, nats_url: str) -> None:
    """Create the baseline's table (a copy of ``deliveries``) and stream."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (LIKE deliveries INCLUDING ALL)")
    finally:
        await conn.close()
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().add_stream(stream())
    finally:
        await nc.close()


def create_app() -> FastAPI:
    """The bare ingest app (a uvicorn ``--factory``)."""
    secret = os.environ["BENCH_SECRET"]
    manifest = _manifest()
    spec = manifest.webhook
    subjects = Subjects(NAMESPACE)
    state: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The service's pool setting (no reset query on release), so both do the same round trips.
        state["pool"] = await asyncpg.create_pool(
            os.environ["BENCH_DATABASE_URL"], max_size=10, reset=keep_session
        )
        nc = await nats.connect(os.environ["BENCH_NATS_URL"])
        state["js"] = nc.jetstream()
        yield
        await nc.close()
        await state["pool"].close()  # type: ignore[attr-defined]

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/webhooks/{tenant}/{instance}", status_code=202)
    async def receive(tenant: str, instance: str, request: Request) -> JSONResponse:
        body = await request.body()
        headers = dict(request.headers)
        verify_delivery(
            "standard-webhooks", [secret], method=request.method, path=request.url.path,
            query=request.url.query, headers=headers, body=body, now=time.time(),
        )  # fmt: skip
        json.loads(body)
        key = idempotency_key(headers, body)
        pool: asyncpg.Pool = state["pool"]
        row = await pool.fetchrow(
            INSERT, delivery_id_for(tenant, instance, key), tenant, instance, key, None
        )
        delivery = WebhookDelivery(
            delivery_id=row["id"], tenant_id=tenant, instance_id=instance,
            event_key=event_key_of(spec, headers, body), headers=strip_auth_headers(headers),
            body=body,
        )  # fmt: skip
        hdrs = {"Dcoder-Max-Attempts": str(manifest.max_attempts or ""), "Nats-Msg-Id": row["id"]}
        ack = await state["js"].publish(  # type: ignore[attr-defined]
            subjects.webhook(tenant, instance), delivery.model_dump_json().encode(),
            headers=hdrs,
        )  # fmt: skip
        duplicate = not row["is_new"] or bool(ack.duplicate)
        status = 200 if duplicate else 202
        return JSONResponse({"delivery_id": row["id"], "duplicate": duplicate}, status_code=status)

    return app


def _manifest() -> Manifest:
    registry = PluginRegistry()
    registry.discover()
    return registry.latest("generic-webhook").manifest
