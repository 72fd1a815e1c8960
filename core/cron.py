"""A small five-field cron parser (``minute hour day-of-month month day-of-week``), in UTC.

Fields take ``*``, numbers, ranges ``a-b``, steps ``*/n`` / ``a-b/n`` and comma lists; day of
week is 0-6 with 0 = Sunday (7 is accepted as Sunday too). As in classic cron, when both day of
month and day of week are restricted a day matches if either does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# field name -> (lowest, highest)
FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)

# a schedule that never matches (e.g. "0 0 31 2 *") gives up after this many years
SEARCH_YEARS = 5


class CronError(ValueError):
    """An expression that is not five valid cron fields; the message names the field."""


def _parse_field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{name}: step {step_text!r} is not a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        else:
            first, dash, last = base.partition("-")
            if not first.isdigit() or (dash and not last.isdigit()):
                raise CronError(f"{name}: {part!r} is not a number, range or step")
            start = int(first)
            end = int(last) if dash else (high if step_text else start)
            if start > end:
                raise CronError(f"{name}: range {base!r} runs backwards")
        if start < low or end > high:
            raise CronError(f"{name}: {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A parsed expression; ``next_after(t)`` is the first matching minute strictly after ``t``."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expression: str) -> Cron:
        """Parse ``expression`` (``CronError`` names the bad field)."""
        parts = expression.split()
        if len(parts) != len(FIELDS):
            raise CronError(f"{expression!r} has {len(parts)} fields; cron needs 5")
        sets = [
            _parse_field(part, name, low, high)
            for part, (name, low, high) in zip(parts, FIELDS, strict=True)
        ]
        weekdays = frozenset(d % 7 for d in sets[4])
        return cls(
            expression=expression,
            minutes=sets[0],
            hours=sets[1],
            days=sets[2],
            months=sets[3],
            weekdays=weekdays,
            any_day=parts[2].startswith("*"),
            any_weekday=parts[4].startswith("*"),
        )

    def _day_matches(self, t: datetime) -> bool:
        in_month = t.day in self.days
        in_week = (t.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, t: datetime) -> datetime:
        """The first matching minute after ``t`` (aware, converted to UTC; naive means UTC)."""
        t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
        candidate = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = candidate + timedelta(days=366 * SEARCH_YEARS)
        while candidate < limit:
            if candidate.month not in self.months:
                month = candidate.month % 12 + 1
                year = candidate.year + (candidate.month == 12)
                candidate = candidate.replace(year=year, month=month, day=1, hour=0, minute=0)
            elif not self._day_matches(candidate):
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0)
            elif candidate.hour not in self.hours:
                candidate = (candidate + timedelta(hours=1)).replace(minute=0)
            elif candidate.minute not in self.minutes:
                candidate += timedelta(minutes=1)
            else:
                return candidate
        raise CronError(f"{self.expression!r} matches no minute in {SEARCH_YEARS} years")
