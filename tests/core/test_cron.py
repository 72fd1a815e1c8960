"""The five-field cron parser: next firings across hours, days, months and years, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.cron import Cron, CronError


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("* * * * *", "2026-12-04 21:11:30", "2026-12-04 21:12:00"),
        ("*/15 * * * *", "2026-12-04 21:11:00", "2026-12-04 21:15:00"),
        ("*/15 * * * *", "2026-12-04 21:45:00", "2026-12-04 22:00:00"),
        ("0 3 * * *", "2026-12-04 03:00:00", "2026-12-05 03:00:00"),
        ("30 2 1 * *", "2026-12-04 00:00:00", "2027-01-01 02:30:00"),
        ("0 0 29 2 *", "2026-03-01 00:00:00", "2028-02-29 00:00:00"),
        ("0 9 * * 1-5", "2026-12-04 10:00:00", "2026-12-07 09:00:00"),  # Fri -> Mon
        ("0 9 * * 0", "2026-12-04 10:00:00", "2026-12-06 09:00:00"),  # Sunday
        ("0 9 * * 7", "2026-12-04 10:00:00", "2026-12-06 09:00:00"),  # 7 is Sunday too
        ("0 0 1 * 1", "2026-12-02 00:00:00", "2026-12-07 00:00:00"),  # day OR weekday
        ("5,35 8-10/2 * * *", "2026-12-04 08:35:00", "2026-12-04 10:05:00"),
        ("0 12 * 6 *", "2026-12-04 00:00:00", "2027-06-01 12:00:00"),
    ],
)
def test_next_after(expression: str, after: str, expected: str) -> None:
    assert Cron.parse(expression).next_after(at(after)) == at(expected)


def test_times_in_other_zones_and_naive_times_are_utc() -> None:
    cron = Cron.parse("0 * * * *")
    plus_two = timezone(timedelta(hours=2))
    assert cron.next_after(datetime(2026, 12, 4, 23, 10, tzinfo=plus_two)) == at("2026-12-04 22:00")
    assert cron.next_after(datetime(2026, 12, 4, 21, 10)) == at("2026-12-04 22:00")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "needs 5"),
        ("60 * * * *", "minute"),
        ("* 24 * * *", "hour"),
        ("* * 0 * *", "day of month"),
        ("* * * 13 *", "month"),
        ("* * * * 8", "day of week"),
        ("*/0 * * * *", "step"),
        ("10-5 * * * *", "backwards"),
        ("a * * * *", "minute"),
        ("0 0 31 2 *", "matches no minute"),
    ],
)
def test_bad_expressions_name_the_problem(expression: str, message: str) -> None:
    with pytest.raises(CronError, match=message):
        Cron.parse(expression).next_after(at("2026-12-04 00:00"))
