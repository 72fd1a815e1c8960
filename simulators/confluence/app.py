"""The Confluence Cloud simulator: REST v1 content API, v2 pages API and page webhooks."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from simulators.auth import require_auth
from simulators.config import SimulatorConfig
from simulators.confluence import routes_v1, routes_v2
from simulators.confluence.events import ConfluenceEvents, webhook_router
from simulators.confluence.state import ConfluenceError, ConfluenceState
from simulators.handle import SimHandle, attach
from simulators.webhooks_out import WebhookSender

MOUNT = "/wiki"
CODES = {400: "INVALID_REQUEST_PARAMETER", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 409: "CONFLICT"}


def error_body(path: str, status: int, message: str) -> dict[str, Any]:
    """v2 answers ``{"errors": [...]}``; v1 answers ``{"statusCode", "data", "message"}``."""
    if "/api/v2/" in path:
        code = CODES.get(status, "ERROR")
        return {"errors": [{"status": status, "code": code, "title": message, "detail": None}]}
    data = {"authorized": status != 401, "valid": status < 500, "errors": [], "successful": False}
    return {"statusCode": status, "data": data, "message": message, "reason": ""}


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ConfluenceError)
    async def product_error(request: Request, err: ConfluenceError) -> JSONResponse:
        return JSONResponse(error_body(request.url.path, err.status, err.message), err.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> JSONResponse:
        body = error_body(request.url.path, err.status_code, str(err.detail))
        return JSONResponse(body, err.status_code, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        return JSONResponse(error_body(request.url.path, 400, message), 400)


def create_app(config: SimulatorConfig, state: ConfluenceState | None = None) -> FastAPI:
    """A Confluence site (mount it at ``/wiki``); every route needs basic or bearer auth."""
    state = state or ConfluenceState(config)
    sender = WebhookSender()
    events = ConfluenceEvents(state, sender)
    app = FastAPI(
        title="Confluence Cloud simulator",
        dependencies=[Depends(require_auth(config))],
        openapi_url=None,
    )
    _handlers(app)
    app.include_router(routes_v1.router(state, events))
    app.include_router(routes_v2.router(state, events))
    app.include_router(webhook_router(state, sender))
    app.state.confluence = state

    def reset() -> None:
        for hook in sender.hooks("confluence"):
            sender.unregister(hook.uuid)
        sender.clear_log()
        state.reset()

    def snapshot() -> dict[str, Any]:
        return {"spaces": {k: s.id for k, s in state.spaces.items()}, "pages": len(state.pages)}

    attach(app, SimHandle(reset, snapshot, sender))
    return app
