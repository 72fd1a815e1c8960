"""Schedule leases: exactly one firing per tick of a plugin schedule, however many drivers run.

One row per (instance, schedule) holds ``next_at``, the next tick. A driver fires a tick by
advancing ``next_at`` with ``UPDATE ... WHERE next_at = <that tick> AND next_at <= now()``: of
any number of concurrent drivers exactly one row update succeeds (PostgreSQL re-checks the
condition on the locked row). The new ``next_at`` is the first tick after *now*, not after the
old tick, so ticks missed while nothing ran (downtime) collapse into one firing. Only enabled
instances fire.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from core.cron import Cron
from core.db import Database


class Timing(NamedTuple):
    """When one schedule fires: every ``interval_s`` seconds or on a five-field ``cron`` (UTC)."""

    name: str
    interval_s: float | None = None
    cron: str | None = None

    def next_after(self, t: datetime) -> datetime:
        """The first tick strictly after ``t``."""
        if self.cron is not None:
            return Cron.parse(self.cron).next_after(t)
        assert self.interval_s is not None
        return t + timedelta(seconds=self.interval_s)


class Due(NamedTuple):
    """A tick that is due: fire it, then ``claim`` it."""

    instance_id: str
    tenant_id: str
    name: str
    tick: datetime


def _now() -> datetime:
    return datetime.now(UTC)


class ScheduleLeases:
    """The ``schedule_leases`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def enabled_instances(self) -> list[Any]:
        """``(id, tenant_id, plugin, version)`` of every enabled instance."""
        return list(
            await self.db.fetch(
                "SELECT id, tenant_id, plugin, version FROM plugin_instances"
                " WHERE state = 'enabled' ORDER BY id"
            )
        )

    async def ensure(self, instance_id: str, timings: list[Timing]) -> None:
        """Create the lease rows of new schedules (first tick: one period from now)."""
        now = _now()
        for timing in timings:
            await self.db.execute(
                "INSERT INTO schedule_leases (instance_id, name, next_at) VALUES ($1, $2, $3)"
                " ON CONFLICT (instance_id, name) DO NOTHING",
                instance_id, timing.name, timing.next_after(now),
            )  # fmt: skip

    async def due(self, limit: int = 500) -> list[Due]:
        """Ticks due now, of enabled instances, oldest first."""
        rows = await self.db.fetch(
            "SELECT l.instance_id, i.tenant_id, l.name, l.next_at FROM schedule_leases l"
            " JOIN plugin_instances i ON i.id = l.instance_id"
            " WHERE i.state = 'enabled' AND l.next_at <= now() ORDER BY l.next_at LIMIT $1",
            limit,
        )
        return [Due(r["instance_id"], r["tenant_id"], r["name"], r["next_at"]) for r in rows]

    async def claim(self, due: Due, timing: Timing) -> bool:
        """Advance the lease past ``due.tick``; True for exactly one caller per tick."""
        row = await self.db.fetchval(
            "UPDATE schedule_leases l SET next_at = $4, fired_at = now(), fired_tick = l.next_at,"
            " fired_count = l.fired_count + 1 FROM plugin_instances i"
            " WHERE i.id = l.instance_id AND i.state = 'enabled'"
            " AND l.instance_id = $1 AND l.name = $2 AND l.next_at = $3 AND l.next_at <= now()"
            " RETURNING l.name",
            due.instance_id, due.name, due.tick, timing.next_after(_now()),
        )  # fmt: skip
        return row is not None
