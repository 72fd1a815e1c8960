"""One combined simulator server per test session, over real HTTP (the SDKs use requests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.routing import Mount

from simulators.app import create_app
from simulators.config import SimulatorConfig


@dataclass
class SimServer:
    """A running combined simulator."""

    url: str
    config: SimulatorConfig
    app: FastAPI

    def mounted(self, path: str) -> Any:
        """The sub-app mounted at ``path`` (its ``state`` holds the product's state)."""
        return next(r.app for r in self.app.routes if isinstance(r, Mount) and r.path == path)

    def client(self) -> httpx.Client:
        """An httpx client with the demo basic credentials."""
        return httpx.Client(
            base_url=self.url, auth=(self.config.user_email, self.config.api_token), timeout=10
        )


@contextmanager
def serving(
    sock: socket.socket, data_dir: Path, poll_s: float = 0.02, **settings: Any
) -> Iterator[SimServer]:
    """The combined app served by uvicorn on ``sock`` (bound by the caller) in a thread;
    ``settings`` are further ``SimulatorConfig`` fields (e.g. ``access_token_ttl_s``)."""
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = SimulatorConfig(base_url=url, data_dir=data_dir, **settings)
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the simulator on {url} did not start")
        time.sleep(poll_s)
    try:
        yield SimServer(url, config, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """Start the combined app with uvicorn on a free port in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the port is ours from here on: no race with other sessions
    with serving(sock, tmp_path_factory.mktemp("sim-data")) as server:
        yield server
    sock.close()
