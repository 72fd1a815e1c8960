"""Embedded nats-server and PostgreSQL: start, keep data across a restart, stop by pid."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import nats

from core.embedded import EmbeddedNats, EmbeddedPostgres, free_port, pid_alive


def test_postgres_keeps_data_across_restart(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", free_port())
    url = server.start()

    async def write() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
        await conn.close()

    async def read() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT v FROM kept"))
        finally:
            await conn.close()

    try:
        asyncio.run(write())
        pid = server.pid
        assert server.stop() and not pid_alive(pid)
        assert server.start() == url
        assert asyncio.run(read()) == 42
        assert server.start() == url  # idempotent while running
    finally:
        server.stop()
    assert not server.running()


def test_nats_jetstream_keeps_streams_across_restart(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    url = server.start()

    async def add() -> None:
        nc = await nats.connect(url)
        await nc.jetstream().add_stream(name="KEPT", subjects=["kept.>"])
        await nc.jetstream().publish("kept.one", b"x")
        await nc.close()

    async def count() -> int:
        nc = await nats.connect(url)
        try:
            return int((await nc.jetstream().stream_info("KEPT")).state.messages)
        finally:
            await nc.close()

    try:
        asyncio.run(add())
        assert server.stop()
        server.start()
        assert asyncio.run(count()) == 1
    finally:
        server.stop()
    assert server.pid is None or not pid_alive(server.pid)
