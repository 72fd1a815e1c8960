"""A schedule driver: fires due ticks of plugin schedules as ``schedule.fired`` events.

Any number of drivers may run (the job runner runs one; tests run more): each tick is published
with a message id derived from (instance, schedule, tick), *then* claimed in PostgreSQL
(``core.schedules``). Exactly one driver advances the lease; a driver that dies between the two
leaves the tick due, and whoever fires it next publishes the same id, which JetStream and the
relay's delivery record both de-duplicate. The relay delivers the event to the instance's
tenant host, which calls ``run_scheduled(name)``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from core.bus import H_TARGET, PLATFORM_SOURCE, SCHEDULE_FIRED, Bus
from core.db import Database
from core.errors import NotFound
from core.schedules import Due, ScheduleLeases, Timing
from core.settings import Settings
from plugin_sdk.events import Event, EventSource, stable_event_id
from plugins.registry import PluginRegistry

log = logging.getLogger(__name__)

TICK_S = 1.0  # how often due schedules are looked for (the finest useful interval is 1 s)
REFRESH_S = 5.0  # how often enabled instances are listed (new schedules get their lease rows)


def schedule_event(due: Due) -> Event:
    """The event of one tick (its id is the same whoever fires it)."""
    tick = due.tick.isoformat()
    return Event(
        id=stable_event_id("schedule", due.instance_id, due.name, tick),
        subject=SCHEDULE_FIRED,
        tenant_id=due.tenant_id,
        # the instance itself as the source: no plugin can publish an event that looks like this
        # to itself (a plugin's events never route back to their source instance)
        source=EventSource(plugin=PLATFORM_SOURCE, instance_id=due.instance_id),
        data={"name": due.name, "tick": tick},
    )


class ScheduleDriver:
    """Creates lease rows for enabled instances' schedules and fires what is due."""

    def __init__(self, settings: Settings, db: Database, bus: Bus) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.leases = ScheduleLeases(db)
        self.registry = PluginRegistry()
        self._discovered = False
        self._sources: set[str] = set()
        self._timings: dict[str, dict[str, Timing]] = {}  # instance -> name -> timing
        self._versions: dict[str, str] = {}  # instance -> "plugin@version" its rows were made for
        self._last = 0.0
        self._refreshed = -REFRESH_S
        self.fired = 0

    async def tick(self, *, force: bool = False) -> int:
        """Fire what is due (at most every TICK_S unless ``force``); how many this driver fired."""
        now = time.monotonic()
        if not force and now - self._last < TICK_S:
            return 0
        self._last = now
        if now - self._refreshed >= REFRESH_S:
            await self._refresh()
            self._refreshed = now
        fired = 0
        for due in await self.leases.due():
            timing = self._timings.get(due.instance_id, {}).get(due.name)
            if timing is None:
                continue  # a schedule the instance's plugin version no longer declares
            event = schedule_event(due)
            await self.bus.publish(
                self.bus.subjects.event(due.tenant_id, event.subject),
                event.model_dump_json().encode(),
                msg_id=event.id,
                headers={H_TARGET: due.instance_id},
            )
            if await self.leases.claim(due, timing):
                fired += 1
        self.fired += fired
        return fired

    async def _refresh(self) -> None:
        """Lease rows for the schedules of enabled instances (new ones or new versions only)."""
        rows = await self.leases.enabled_instances()
        for row in rows:
            label = f"{row['plugin']}@{row['version']}"
            if self._versions.get(row["id"]) == label:
                continue
            timings = await self._plugin_timings(row["plugin"], row["version"])
            if timings is None:
                continue
            await self.leases.ensure(row["id"], list(timings.values()))
            self._timings[row["id"]] = timings
            self._versions[row["id"]] = label

    async def _plugin_timings(self, plugin: str, version: str) -> dict[str, Timing] | None:
        if not self._discovered:
            self.registry.discover()
            self._discovered = True
        try:
            manifest = self.registry.get(plugin, version).manifest
        except NotFound:
            await self._load_sources()
            try:
                manifest = self.registry.get(plugin, version).manifest
            except NotFound:
                log.warning("schedules of %s@%s unknown: plugin not loadable", plugin, version)
                return None
        return {s.name: Timing(s.name, s.interval_s, s.cron) for s in manifest.schedules}

    async def _load_sources(self) -> None:
        rows = await self.db.fetch("SELECT path FROM plugin_sources ORDER BY loaded_at")
        for row in rows:
            if row["path"] not in self._sources:
                self.registry.load_path(Path(row["path"]), into=self.settings.data_dir / "plugins")
                self._sources.add(row["path"])
