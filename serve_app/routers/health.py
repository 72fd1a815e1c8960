"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from core.errors import DependencyUnavailable
from serve_app.cluster_metrics import collect
from serve_app.routers.deps import services
from serve_app.services import Services

router = APIRouter(tags=["health"])
ServicesDep = Annotated[Services, Depends(services)]


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(probe: Callable[[], Awaitable[Any]], timeout_s: float) -> str:
    try:
        async with asyncio.timeout(timeout_s):
            await probe()
    except DependencyUnavailable as err:
        return f"unavailable: {err.detail}"
    except TimeoutError:
        return f"unavailable: no answer within {timeout_s}s"
    return "ok"


@router.get(
    "/readyz",
    summary="Every backing service answers",
    responses={503: {"description": "at least one component is unavailable"}},
)
async def readyz(svc: ServicesDep) -> JSONResponse:
    timeout = svc.readiness_timeout_s
    await svc.keep_relays()
    names = ("nats", "postgres", "ray")
    results = await asyncio.gather(
        _check(lambda: svc.bus.ping(timeout), timeout),
        _check(lambda: svc.db.ping(timeout), timeout),
        _check(lambda: svc.directory.ping(timeout), timeout),
    )
    components = dict(zip(names, results, strict=True))
    ready = all(value == "ok" for value in components.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "components": components},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", summary="Prometheus metrics of this replica", response_class=Response)
async def metrics(svc: ServicesDep) -> Response:
    return svc.metrics.render(await collect(svc))
