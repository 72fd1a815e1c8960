"""Reading HAProxy's admin sockets: a socket that stops answering is said once, not every read.

The real HAProxy behind the real service is read in test_haproxy_queue.py; here a plain Unix
socket stands in for its admin socket: bound but not listening (connections refused, as while
HAProxy restarts), then answering ``show stat`` with one backend row, then refusing again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from serve_app.haproxy_stats import SOCKET_ENV, door_counters
from serve_app.launcher.haproxy_shim import SHED_BACKEND
from serve_app.retry_window import write_range

STAT = f"# pxname,svname,qcur,econ,stot\n{SHED_BACKEND},BACKEND,0,0,7\ndcoder,BACKEND,2,3,100\n"


def _refusing(path: Path) -> socket.socket:
    """A Unix socket file nobody accepts on (connect: ECONNREFUSED)."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    return sock


@contextlib.asynccontextmanager
async def _answering(path: Path) -> AsyncIterator[None]:
    """An admin socket that answers every command with ``STAT`` and closes."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(STAT.encode())
        await writer.drain()
        writer.close()

    # (asyncio replaces a socket file left at the path)
    server = await asyncio.start_unix_server(answer, path=str(path))
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


def _said(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


async def test_an_unreadable_socket_is_said_once_until_it_answers_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node = tmp_path / "node-1"
    node.mkdir()
    admin = node / "admin.sock"
    env = {SOCKET_ENV: str(tmp_path / "haproxy.sock")}
    caplog.set_level(logging.DEBUG, logger="serve_app")

    refusing = _refusing(admin)
    for _ in range(5):  # /metrics scraped, or the steering's step every second
        counters = await door_counters(env)
        assert counters is not None and counters.shed == 0  # nothing read: zero, no error
    refusing.close()
    warned = _said(caplog, logging.WARNING)
    assert len(warned) == 1 and "statistics unavailable" in warned[0] and str(admin) in warned[0]

    async with _answering(admin):
        counters = await door_counters(env)
        assert counters is not None
        assert (counters.shed, counters.gave_up, counters.queued) == (7.0, 3.0, 2.0)
        await door_counters(env)
    assert [m for m in _said(caplog, logging.INFO) if "available again" in m] == [
        f"HAProxy statistics available again at {admin}"
    ]

    caplog.clear()
    refusing = _refusing(admin)
    await door_counters(env)
    await door_counters(env)
    refusing.close()
    assert len(_said(caplog, logging.WARNING)) == 1  # failing again: said again, once


async def test_a_refused_retry_after_write_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    admin = tmp_path / "admin.sock"
    refusing = _refusing(admin)
    caplog.set_level(logging.DEBUG, logger="serve_app")
    for value in (4, 6, 9):
        await write_range(value, [admin])
    refusing.close()
    warned = _said(caplog, logging.WARNING)
    assert len(warned) == 1 and "Retry-After range" in warned[0]
