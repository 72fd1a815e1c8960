"""Fault injection on demand: latency, 429 + Retry-After, 5xx bursts, expired tokens, dropped
connections. A pure ASGI middleware, so that a "drop" can close the connection without answering.

Control (on the combined app): ``POST /_sim/faults`` with a ``FaultRule`` body, ``GET`` lists the
rules, ``DELETE`` clears them. A rule applies to requests whose path starts with ``path_prefix``
(and whose method matches, if given) until its ``count`` is used up (``count`` null: forever).
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Receive, Scope, Send

FaultKind = Literal["latency", "rate_limit", "server_error", "expired_token", "drop"]
CONTROL_PREFIX = "/_sim"


class FaultRule(BaseModel):
    """One injected fault."""

    model_config = ConfigDict(extra="forbid")

    path_prefix: str = Field("/", description="applies to request paths starting with this")
    kind: FaultKind
    count: int | None = Field(1, ge=1, description="how many requests it hits; null: unlimited")
    method: str | None = Field(None, description="only this HTTP method (any when unset)")
    status: int = Field(503, ge=500, le=599, description="status of server_error")
    retry_after_s: int = Field(1, ge=0, description="Retry-After of rate_limit")
    latency_ms: int = Field(500, ge=0, le=60_000, description="delay of latency")
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    hits: int = 0


class FaultBook:
    """The active rules; thread-safe because tests add rules from another thread."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> FaultRule:
        """Activate ``rule``."""
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        """Active rules (copies)."""
        with self._lock:
            return [rule.model_copy() for rule in self._rules]

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching a request, counting the hit; used-up rules disappear."""
        with self._lock:
            for rule in self._rules:
                if not path.startswith(rule.path_prefix):
                    continue
                if rule.method and rule.method.upper() != method.upper():
                    continue
                rule.hits += 1
                if rule.count is not None and rule.hits >= rule.count:
                    self._rules.remove(rule)
                return rule.model_copy()
        return None


async def _respond(
    send: Send, status: int, body: dict[str, object], headers: dict[str, str]
) -> None:
    raw = json.dumps(body).encode()
    pairs = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    pairs += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": raw})


class FaultMiddleware:
    """Applies the ``FaultBook``'s rules to every request except the ``/_sim`` control ones."""

    def __init__(self, app: ASGIApp, book: FaultBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        rule = self.book.take(scope["method"], path)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "latency":
            await asyncio.sleep(rule.latency_ms / 1000)
            await self.app(scope, receive, send)
        elif rule.kind == "rate_limit":
            headers = {"Retry-After": str(rule.retry_after_s), "X-RateLimit-Remaining": "0"}
            await _respond(send, 429, {"errorMessages": ["Rate limit exceeded."]}, headers)
        elif rule.kind == "server_error":
            await _respond(send, rule.status, {"errorMessages": ["Injected server error."]}, {})
        elif rule.kind == "expired_token":
            challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            body = {"code": 401, "message": "Unauthorized; token expired"}
            await _respond(send, 401, body, challenge)
        else:
            await _drop(send)


class DroppedConnection(ConnectionAbortedError):
    """Raised after a response has started, which makes the ASGI server close the socket."""


async def _drop(send: Send) -> None:
    # ASGI has no "close without answering"; a server that sees an error after the response
    # started closes the connection, so the client sees the peer vanish mid-response.
    headers = [(b"content-type", b"application/json"), (b"content-length", b"1024")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    raise DroppedConnection("simulated dropped connection")
