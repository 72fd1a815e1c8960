"""Jira's error body (``ErrorCollection``) and the handlers that produce it."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class JiraError(Exception):
    """An error Jira answers with ``{"errorMessages": [...], "errors": {...}}``."""

    def __init__(self, status: int, *messages: str, errors: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(messages) or str(errors))
        self.status = status
        self.messages = list(messages)
        self.errors = errors or {}


def not_found(what: str = "Issue") -> JiraError:
    """Jira's 404 for a missing (or invisible) resource."""
    return JiraError(404, f"{what} does not exist or you do not have permission to see it.")


def api_version(api: Annotated[str, Path(pattern=r"^(2|3|latest)$")]) -> str:
    """The REST API version of the request path (``latest`` is version 2)."""
    return "2" if api == "latest" else api


def install_handlers(app: FastAPI) -> None:
    """Render errors as Jira does, including 401s raised by the shared auth dependency."""

    @app.exception_handler(JiraError)
    async def jira_error(_request: Request, err: JiraError) -> JSONResponse:
        body = {"errorMessages": err.messages, "errors": err.errors}
        return JSONResponse(body, status_code=err.status)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, err: HTTPException) -> JSONResponse:
        body = {"errorMessages": [str(err.detail)], "errors": {}}
        return JSONResponse(body, status_code=err.status_code, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, err: RequestValidationError) -> JSONResponse:
        messages = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]
        return JSONResponse({"errorMessages": messages, "errors": {}}, status_code=400)
