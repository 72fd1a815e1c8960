"""The combined simulator (one per session, real HTTP on a free port) and the shared contracts.

A test using the session's simulator has its loopback port on the egress guard's allow-list
(``DCODER_EGRESS_ALLOW``, as an operator would list a LAN server): the review job's ``git fetch``
passes the guard in the harness too.

``esim``: the end-to-end tests' simulator (one per module) on a copy of the port the session
reserved for simulators, the only loopback port ``DCODER_EGRESS_ALLOW`` lets the service's
plugins reach (the OAuth tests use the same port with their own copy).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.settings import Settings
from tests.conftest import TestServices
from tests.simulators.conftest import SimServer, serving, sim

__all__ = ["SimServer", "contract", "esim", "sim"]


def contract(product: str, name: str) -> dict[str, Any]:
    """A real webhook capture from ../shared/contracts (a deep copy, free to edit)."""
    path = Settings().contracts_dir / "webhooks" / product / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"contracts not present at {path}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


@pytest.fixture(autouse=True)
def _simulator_reachable(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "sim" not in request.fixturenames:
        return
    server: SimServer = request.getfixturevalue("sim")
    entry = f"127.0.0.1:{urlsplit(server.url).port}"
    listed = os.environ.get("DCODER_EGRESS_ALLOW", "")
    monkeypatch.setenv("DCODER_EGRESS_ALLOW", ",".join(e for e in (listed, entry) if e))


@pytest.fixture(scope="module")
def esim(
    test_services: TestServices, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimServer]:
    assert test_services.sim_socket is not None
    sock = test_services.sim_socket.dup()  # closing ours leaves the session's port open
    with serving(sock, tmp_path_factory.mktemp("bb-e2e"), 0.05) as server:
        yield server
