"""Schedule leases on real PostgreSQL: one firing per tick under racing drivers, missed ticks
collapse into one, disabled instances never fire."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from core.db import Database, apply_migrations
from core.schedules import ScheduleLeases, Timing
from tests.conftest import TestServices

HOURLY = Timing("hourly", interval_s=3600)


@pytest.fixture(scope="module")
async def leases(test_services: TestServices) -> AsyncIterator[ScheduleLeases]:
    db = Database(test_services.database_url)
    await apply_migrations(db)
    yield ScheduleLeases(db)
    await db.close()


async def _instance(leases: ScheduleLeases, state: str = "enabled") -> str:
    tenant, instance = f"t-{secrets.token_hex(4)}", f"i-{secrets.token_hex(4)}"
    await leases.db.execute("INSERT INTO tenants (id, name) VALUES ($1, $1)", tenant)
    await leases.db.execute(
        "INSERT INTO plugin_instances (id, tenant_id, plugin, version, name, state)"
        " VALUES ($1, $2, 'ticker', '1.0.0', $3, $4)",
        instance, tenant, f"ticker-{secrets.token_hex(2)}", state,
    )  # fmt: skip
    return instance


async def _set_next(leases: ScheduleLeases, instance: str, at: datetime) -> None:
    await leases.db.execute(
        "UPDATE schedule_leases SET next_at = $2 WHERE instance_id = $1", instance, at
    )


def _mine(due: list, instance: str) -> list:  # type: ignore[type-arg]
    return [d for d in due if d.instance_id == instance]


async def test_a_new_schedule_first_fires_one_period_later(leases: ScheduleLeases) -> None:
    instance = await _instance(leases)
    before = datetime.now(UTC)
    await leases.ensure(instance, [HOURLY])
    await leases.ensure(instance, [HOURLY])  # idempotent: the lease is not pushed back
    row = await leases.db.fetchrow(
        "SELECT next_at, fired_count FROM schedule_leases WHERE instance_id = $1", instance
    )
    assert row["fired_count"] == 0
    assert before + timedelta(minutes=59) < row["next_at"] <= datetime.now(UTC) + timedelta(hours=1)
    assert _mine(await leases.due(), instance) == []


async def test_racing_drivers_fire_a_tick_exactly_once(leases: ScheduleLeases) -> None:
    instance = await _instance(leases)
    await leases.ensure(instance, [HOURLY])
    await _set_next(leases, instance, datetime.now(UTC) - timedelta(seconds=1))
    [due] = _mine(await leases.due(), instance)

    wins = await asyncio.gather(*(leases.claim(due, HOURLY) for _ in range(20)))

    assert sum(wins) == 1
    row = await leases.db.fetchrow(
        "SELECT next_at, fired_tick, fired_count FROM schedule_leases WHERE instance_id = $1",
        instance,
    )
    assert (row["fired_tick"], row["fired_count"]) == (due.tick, 1)
    assert row["next_at"] > datetime.now(UTC) + timedelta(minutes=59)


async def test_ticks_missed_during_downtime_run_once(leases: ScheduleLeases) -> None:
    instance = await _instance(leases)
    await leases.ensure(instance, [HOURLY])
    await _set_next(leases, instance, datetime.now(UTC) - timedelta(hours=10))  # 10 missed

    fired = 0
    for _ in range(3):  # three driver passes after the restart
        for due in _mine(await leases.due(), instance):
            fired += await leases.claim(due, HOURLY)

    assert fired == 1
    assert _mine(await leases.due(), instance) == []


async def test_disabled_instances_do_not_fire(leases: ScheduleLeases) -> None:
    instance = await _instance(leases)
    await leases.ensure(instance, [HOURLY])
    await _set_next(leases, instance, datetime.now(UTC) - timedelta(seconds=5))
    [due] = _mine(await leases.due(), instance)
    await leases.db.execute(
        "UPDATE plugin_instances SET state = 'disabled' WHERE id = $1", instance
    )

    assert _mine(await leases.due(), instance) == []
    assert await leases.claim(due, HOURLY) is False  # a driver that saw it due before
    assert (
        await leases.db.fetchval(
            "SELECT fired_count FROM schedule_leases WHERE instance_id = $1", instance
        )
        == 0
    )


def test_cron_timing_uses_core_cron() -> None:
    quarter = Timing("q", cron="*/15 * * * *")
    at = datetime(2026, 1, 1, 10, 7, 30, tzinfo=UTC)
    assert quarter.next_after(at) == datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    assert HOURLY.next_after(at) == at + timedelta(hours=1)
