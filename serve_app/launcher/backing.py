"""Backing services: embedded NATS and PostgreSQL when no URL is configured; migrations; streams."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from core.bus import Bus, relay_ack_wait_s
from core.db import Database, apply_migrations, ensure_database
from core.embedded import EmbeddedNats, EmbeddedPostgres
from core.endpoints import database_url, embedded_nats, embedded_postgres, nats_url
from core.settings import Settings


@dataclass
class Backing:
    """URLs in use and the embedded servers we manage (None where a URL is configured)."""

    nats_url: str
    database_url: str
    nats: EmbeddedNats | None
    postgres: EmbeddedPostgres | None


def embedded_servers(settings: Settings) -> tuple[EmbeddedNats | None, EmbeddedPostgres | None]:
    """The embedded servers this configuration uses (whether running or not)."""
    nats = None if settings.nats.url else embedded_nats(settings)
    pg = None if settings.database.url else embedded_postgres(settings)
    return nats, pg


def start_backing(settings: Settings) -> Backing:
    """Start the embedded servers that are needed (idempotent) and return the URLs."""
    nats, pg = embedded_servers(settings)
    if nats is not None:
        nats.start()
    if pg is not None:
        pg.start()
        asyncio.run(ensure_database(database_url(settings)))
    return Backing(nats_url(settings), database_url(settings), nats, pg)


async def _prepare(settings: Settings) -> tuple[list[int], list[str]]:
    db = Database(database_url(settings), settings.database)
    bus = Bus(nats_url(settings), settings.nats)
    try:
        return await apply_migrations(db), await bus.ensure_streams(
            relay_ack_wait_s(settings.webhooks)
        )
    finally:
        await db.close()
        await bus.close()


def migrate_and_declare(settings: Settings) -> tuple[list[int], list[str]]:
    """Apply pending migrations and create/update streams; return what changed."""
    return asyncio.run(_prepare(settings))


def stop_backing(settings: Settings) -> list[str]:
    """Stop the embedded servers by pid; return what was stopped."""
    stopped = []
    nats, pg = embedded_servers(settings)
    for name, server in (("postgres", pg), ("nats", nats)):
        if server is not None and server.running():
            server.stop()
            stopped.append(name)
    return stopped
