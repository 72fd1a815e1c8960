"""What one replica holds: settings and the clients of every backing service."""

from __future__ import annotations

from dataclasses import dataclass

from actors.handles import DirectoryClient
from core.bus import Bus
from core.db import Database
from core.endpoints import database_url, nats_url
from core.settings import Settings
from serve_app.metrics import ApiMetrics


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: Bus
    directory: DirectoryClient
    metrics: ApiMetrics
    readiness_timeout_s: float = 2.0

    @classmethod
    def create(cls, settings: Settings) -> Services:
        """Build the clients (they connect lazily, so a replica starts even when one is down)."""
        return cls(
            settings=settings,
            db=Database(database_url(settings), settings.database),
            bus=Bus(nats_url(settings), settings.nats),
            directory=DirectoryClient(settings.ray.namespace),
            metrics=ApiMetrics(),
        )

    async def close(self) -> None:
        await self.bus.close()
        await self.db.close()
