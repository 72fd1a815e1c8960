"""First checks on every request, before routing: NUL bytes, body size, strict JSON.

PostgreSQL refuses NUL (0x00) in text, so a NUL in a path segment, query parameter or JSON string
would otherwise end in a driver error (a 500) wherever the value first reaches a query; refusing it
here covers every route, authenticated or not. Management API bodies are read (up to
``DCODER_HTTP_MAX_BODY_BYTES``, counted as they stream in) and, when JSON, parsed strictly once so
every parse error has one problem+json shape; the route then parses the same bytes again. The
webhook ingest keeps its own limit and parser (it must verify the raw bytes before parsing them).
"""

from __future__ import annotations

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import json_input
from core.errors import ClientError, IntegrationsError, PayloadTooLarge, ValidationFailed
from core.settings import HttpSettings
from serve_app.problems import error_response, unexpected_response

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_webhook_ingest(scope: Scope) -> bool:
    """``POST /v1/webhooks/{tenant}/{instance}`` (the same test as the webhook fast path)."""
    parts = scope["path"].split("/")
    return (
        scope["method"] == "POST" and len(parts) == 5 and parts[1:3] == ["v1", "webhooks"]
        and all(parts[3:])
    )  # fmt: skip


def check_url(scope: Scope) -> None:
    """Refuse a NUL byte in the path or the query string, raw or percent-encoded."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    for where, raw in (("path", raw_path), ("query string", scope.get("query_string", b""))):
        if b"\x00" in raw or b"%00" in raw:
            raise ClientError(f"the URL's {where} holds a NUL byte (%00)")
    if "\x00" in scope["path"]:
        raise ClientError("the URL's path holds a NUL byte (%00)")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "application/json") or media.endswith("+json")


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body, refusing more than ``limit`` bytes (declared or streamed)."""
    declared = Request(scope).headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes (DCODER_HTTP_MAX_BODY_BYTES)")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body larger than {limit} bytes (DCODER_HTTP_MAX_BODY_BYTES)")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def check_json(scope: Scope, body: bytes) -> None:
    """Parse a JSON body strictly; refuse NUL or an unpaired surrogate in its strings or keys."""
    if not body or not _is_json(Request(scope).headers.get("content-type", "")):
        return
    pointer = json_input.unstorable_pointer(json_input.parse(body))
    if pointer is not None:
        raise ValidationFailed(
            "a string of the body holds a NUL character (\\u0000) or an unpaired surrogate",
            errors=[{"pointer": pointer, "location": "body", "detail": "not storable text"}],
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # after the body: wait for the disconnect as usual
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class RequestGuard:
    """Pure ASGI middleware applying the checks above; a refusal is problem+json."""

    def __init__(self, app: ASGIApp, settings: HttpSettings) -> None:
        self.app = app
        self.max_body_bytes = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body: bytes | None = None
        try:
            check_url(scope)
            if scope["method"] in _BODY_METHODS and not is_webhook_ingest(scope):
                body = await read_body(scope, receive, self.max_body_bytes)
                check_json(scope, body)
        except IntegrationsError as err:
            await error_response(err, Request(scope))(scope, receive, send)
            return
        if body is None and is_webhook_ingest(scope):
            await self.app(scope, receive, send)  # the fast path answers every error itself
            return
        await _answer_bugs(
            self.app, scope, receive if body is None else _replay(body, receive), send
        )


async def _answer_bugs(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the app; a bug becomes a problem+json 500 and one log line, not a re-raise.

    Starlette's outermost handler answers too but then raises again so the server logs the
    whole traceback: one request could write 10 KB of log, as often as it is sent.
    """
    started = False

    async def tracked(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, receive, tracked)
    except Exception as exc:  # noqa: BLE001 - every bug answers problem+json
        response = unexpected_response(Request(scope), exc)
        if not started:
            await response(scope, receive, send)
