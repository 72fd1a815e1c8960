"""Real HTTP for simulator tests: an ASGI app on a free port in a thread, and a webhook receiver."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp


def bind_free_port() -> socket.socket:
    """A listening socket on 127.0.0.1 with a port the OS picked (never a fixed one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """Runs one ASGI app with uvicorn in a daemon thread; ``url`` is where it answers."""

    def __init__(self, make_app: Callable[[str], ASGIApp]) -> None:
        self._sock = bind_free_port()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.app = make_app(self.url)
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("simulator did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook endpoint that records every POST; answers ``statuses`` in turn, then 200."""

    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)

    def app(self) -> Starlette:
        """The ASGI app to serve with ``LiveServer``."""

        async def hook(request: Request) -> Response:
            self.requests.append(
                Received(request.url.path, dict(request.headers), await request.body())
            )
            return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

        return Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        """Block until ``count`` requests arrived (raises on timeout)."""
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.requests)} webhook(s), wanted {count}")
            time.sleep(0.02)
        return self.requests
