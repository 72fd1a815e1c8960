"""Signed webhook ingest and the tenant's view of deliveries and dead letters."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from core.errors import IntegrationsError, PayloadTooLarge, RateLimited, SignatureInvalid
from core.webhooks.metrics import Outcome
from core.webhooks.models import DeadLetter, Delivery
from serve_app.problems import error_response, unexpected_response
from serve_app.routers.auth import TenantDep
from serve_app.routers.deps import IsoDateTime, services
from serve_app.services import Services

router = APIRouter(tags=["webhooks"])
INGEST_PATH = "/v1/webhooks/{tenant}/{instance}"
_REFUSALS: dict[type, Outcome] = {
    SignatureInvalid: "rejected", RateLimited: "rate_limited", PayloadTooLarge: "too_large",
}  # fmt: skip


def accepted_plugin(svc: Services, tenant: str, instance: str) -> str:
    """The plugin label of a refused delivery (from the cached profile; 'unknown' if none)."""
    return svc.ingest.cached_plugin(tenant, instance) or "unknown"


ServicesDep = Annotated[Services, Depends(services)]
Status = Literal["accepted", "processing", "done", "retrying", "dead"]


@router.post(
    INGEST_PATH,
    status_code=202,
    summary="Receive a signed webhook for one plugin instance",
    responses={
        200: {"description": "a repeated delivery: acknowledged, not processed again"},
        202: {"description": "verified and durably queued"},
        400: {"description": "not parseable JSON (code malformed-json), or a NUL byte in the URL"},
        401: {"description": "signature, timestamp or token did not verify"},
        404: {"description": "no such endpoint (unknown tenant or instance, or disabled)"},
        413: {"description": "body too large"},
        415: {"description": "not JSON"},
        422: {"description": "JSON, but not an object or array (or a NUL in its event key)"},
        429: {"description": "tenant rate limit; see Retry-After"},
    },
)
async def receive(tenant: str, instance: str, request: Request, svc: ServicesDep) -> JSONResponse:
    # Requests reach ``ingest_response`` through ``WebhookFastPath``; this route documents the
    # endpoint in the OpenAPI schema and answers if the fast path is ever bypassed.
    return await ingest_response(svc, tenant, instance, request)


async def ingest_response(
    svc: Services, tenant: str, instance: str, request: Request
) -> JSONResponse:
    """Verify and durably enqueue one delivery; 202 (200 for a repeat) with its delivery id."""
    started = time.perf_counter()
    await svc.keep_relays()
    metrics = svc.metrics.webhooks
    try:
        accepted = await svc.ingest.accept(tenant, instance, request)
    except IntegrationsError as err:
        outcome = _REFUSALS.get(type(err))
        if outcome:
            metrics.record_outcome(accepted_plugin(svc, tenant, instance), outcome)
        raise
    plugin = accepted.plugin
    metrics.record_outcome(plugin, "duplicate" if accepted.duplicate else "accepted")
    metrics.ingest_latency.labels(plugin=plugin).observe(time.perf_counter() - started)
    return JSONResponse(
        {"delivery_id": accepted.delivery_id, "duplicate": accepted.duplicate},
        status_code=200 if accepted.duplicate else 202,
    )


@router.get("/v1/tenants/{tenant}/deliveries", summary="Recent deliveries with their status")
async def deliveries(
    tenant: str,
    who: TenantDep,
    svc: ServicesDep,
    status: Status | None = None,
    plugin: str | None = None,
    since: IsoDateTime | None = None,
    limit: int = 100,
) -> list[Delivery]:
    return await svc.deliveries.list_deliveries(
        tenant, status=status, plugin=plugin, since=since, limit=max(1, min(limit, 1000))
    )


@router.get("/v1/tenants/{tenant}/dead-letters", summary="Dead letters, newest first")
async def dead_letters(tenant: str, who: TenantDep, svc: ServicesDep) -> list[DeadLetter]:
    return await svc.deliveries.list_dead_letters(tenant)


@router.post(
    "/v1/tenants/{tenant}/dead-letters/{id}/replay",
    status_code=202,
    summary="Queue a dead letter again (after fixing the cause)",
)
async def replay(tenant: str, id: str, who: TenantDep, svc: ServicesDep) -> dict[str, str]:
    delivery_id = await svc.replay_dead_letter(tenant, id, who.actor)
    return {"delivery_id": delivery_id, "status": "accepted"}


@router.delete(
    "/v1/tenants/{tenant}/dead-letters/{id}", status_code=204, summary="Discard a dead letter"
)
async def discard(tenant: str, id: str, who: TenantDep, svc: ServicesDep) -> Response:
    await svc.deliveries.delete_dead_letter(tenant, id)
    return Response(status_code=204)


class WebhookFastPath:
    """Pure ASGI middleware: ``POST /v1/webhooks/{tenant}/{instance}`` straight to the ingest.

    The ingest is the one hot route; FastAPI's routing, dependency solving and exception
    middlewares cost as much CPU as the verification and the durable publish themselves. The
    answer is the same as the route's: same handler, same problem+json errors, the route set in
    the scope so request metrics label it with its path template. Other requests pass through.
    """

    def __init__(self, app: ASGIApp, svc: Services) -> None:
        self.app = app
        self.svc = svc
        self.route = next(
            r for r in router.routes
            if isinstance(r, APIRoute) and r.path == INGEST_PATH and "POST" in (r.methods or ())
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        parts = scope["path"].split("/")
        # ['', 'v1', 'webhooks', tenant, instance]; FastAPI's {param} matches [^/]+
        if len(parts) != 5 or parts[1] != "v1" or parts[2] != "webhooks" or not all(parts[3:]):
            await self.app(scope, receive, send)
            return
        tenant, instance = parts[3], parts[4]
        scope["route"] = self.route
        scope["path_params"] = {"tenant": tenant, "instance": instance}
        request = Request(scope, receive)
        try:
            response = await ingest_response(self.svc, tenant, instance, request)
        except IntegrationsError as err:
            response = error_response(err, request)
        except Exception as exc:  # noqa: BLE001 - a bug still answers problem+json, like the app
            response = unexpected_response(request, exc)
        await response(scope, receive, send)
