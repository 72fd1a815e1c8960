"""The one mapping from errors to HTTP: RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    ClientError,
    IntegrationsError,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    SignatureInvalid,
    ValidationFailed,
)

PROBLEM_JSON = "application/problem+json"
LOG_TEXT_MAX = 300
"""Longest client-influenced text (path, error message) put into one log line."""
log = logging.getLogger(__name__)


def problem_response(err: IntegrationsError, request: Request) -> JSONResponse:
    """Render one error as problem+json (with Retry-After for rate limits)."""
    headers = {}
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(err.retry_after_s)
    if err.status == 401:
        # RFC 9110 §11.6.1: every 401 names the scheme that would be accepted.
        headers["WWW-Authenticate"] = (
            'Webhook-Signature realm="webhooks"'
            if isinstance(err, SignatureInvalid)
            else 'Bearer realm="dcoder-integrations"'
        )
    if isinstance(err, MethodNotAllowed) and "allow" in err.extra:
        headers["Allow"] = str(err.extra["allow"])
    return JSONResponse(
        err.problem(instance=request.url.path),
        status_code=err.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for item in exc.errors():
        loc = [str(part) for part in item.get("loc", ())]
        errors.append(
            {"pointer": "/" + "/".join(loc[1:]) if loc[:1] == ["body"] else "/".join(loc),
             "location": loc[0] if loc else "", "detail": item.get("msg", "")}
        )  # fmt: skip
    return errors


def _bounded(text: str) -> str:
    return text if len(text) <= LOG_TEXT_MAX else text[:LOG_TEXT_MAX] + "…"


def error_response(exc: IntegrationsError, request: Request) -> JSONResponse:
    """The answer to a typed error (server-side ones are logged, one bounded line)."""
    if not isinstance(exc, ClientError):
        log.warning("request failed: %s", _bounded(exc.detail), extra={"code": exc.code})
    return problem_response(exc, request)


def _origin(exc: BaseException) -> str:
    """Where an exception was raised: ``file:line in function`` of its innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


def unexpected_response(request: Request, exc: BaseException | None = None) -> JSONResponse:
    """The answer to a bug: a generic 500 to the client and one bounded log line.

    A request can trigger a bug on purpose, again and again: the full traceback (often 10 KB)
    goes to the DEBUG level only, the ERROR line names the exception and where it was raised.
    """
    path = _bounded(request.url.path)
    if exc is None:
        log.error("unhandled error on %s %s", request.method, path)
    else:
        log.error(
            "unhandled %s on %s %s: %s (at %s)", type(exc).__name__, request.method, path,
            _bounded(str(exc)), _origin(exc),
        )  # fmt: skip
        log.debug("traceback of the unhandled error", exc_info=exc)
    return problem_response(IntegrationsError("internal error; see the service log"), request)


def install_problem_handlers(api: FastAPI) -> None:
    """Make every error leave the API as problem+json."""

    @api.exception_handler(IntegrationsError)
    async def _integrations(request: Request, exc: IntegrationsError) -> JSONResponse:
        return error_response(exc, request)

    @api.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = ValidationFailed("the request did not validate", errors=_field_errors(exc))
        return problem_response(err, request)

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        err: IntegrationsError
        if exc.status_code == 404:
            err = NotFound(f"no resource at {request.url.path}")
        elif exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "")
            err = MethodNotAllowed(f"{request.method} is not allowed here", allow=allow)
        else:
            err = ClientError(str(exc.detail))
            response = problem_response(err, request)
            response.status_code = exc.status_code
            return response
        return problem_response(err, request)

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_response(request, exc)
