"""Dates in JQL: absolute (``2026-01-31``, ``2026/01/31 14:00``), periods relative to now
(``-30d``, ``"4w 2d"``, units ``y M w d h m``) and the functions ``now()``, ``startOfDay()``,
``endOfDay()`` and their ``Week``/``Month``/``Year`` variants with an optional increment such as
``startOfMonth(-1)`` or ``endOfDay("+1d")``. The simulator's time zone is UTC and weeks start on
Sunday (Jira's default ``en_US`` locale).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

DATE_FIELDS = frozenset({"created", "updated", "resolved", "resolutiondate"})
ABSOLUTE = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
PERIOD_PART = re.compile(r"([+-]?)(\d+)([yMwdhm])")
FUNCTIONS = {
    f"{edge}of{unit}": (edge, unit)
    for edge in ("start", "end")
    for unit in ("day", "week", "month", "year")
}
NATURAL_UNIT = {"day": "d", "week": "w", "month": "M", "year": "y"}


class DateError(ValueError):
    """A value that is not a JQL date (the message is Jira's)."""


def invalid(value: str, field: str) -> DateError:
    """Jira's message for a date value it cannot read."""
    return DateError(
        f"Date value '{value}' for field '{field}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
        "or a period format e.g. '-5d', '4w 2d'."
    )


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def shift(moment: datetime, period: str) -> datetime | None:
    """``moment`` moved by ``period`` (``-30d``, ``4w 2d``); None when it is not a period."""
    text = period.strip()
    if not text or PERIOD_PART.sub("", text).strip():
        return None
    sign = -1 if text.startswith("-") else 1
    for explicit, amount, unit in PERIOD_PART.findall(text):
        n = int(amount) * (-1 if explicit == "-" else sign if not explicit else 1)
        if unit == "y":
            moment = _add_months(moment, 12 * n)
        elif unit == "M":
            moment = _add_months(moment, n)
        else:
            moment += {"w": timedelta(weeks=n), "d": timedelta(days=n)}.get(unit) or (
                timedelta(hours=n) if unit == "h" else timedelta(minutes=n)
            )
    return moment


def parse_value(value: str, field: str, now: datetime | None = None) -> datetime:
    """A JQL date literal (absolute or relative to ``now``) as an aware UTC datetime."""
    for pattern in ABSOLUTE:
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    moved = shift(now or datetime.now(UTC), value)
    if moved is None:
        raise invalid(value, field)
    return moved


def call(name: str, args: list[str], now: datetime | None = None) -> datetime:
    """The value of a date function such as ``startOfWeek("-1")``; DateError if unknown."""
    key = name.lower()
    moment = now or datetime.now(UTC)
    if key == "now":
        if args:
            raise DateError("Function 'now' expects no arguments.")
        return moment
    if key not in FUNCTIONS:
        raise DateError(f"Unable to find JQL function '{name}()'.")
    edge, unit = FUNCTIONS[key]
    if len(args) > 1:
        raise DateError(f"Function '{name}' expects zero or one arguments.")
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        start -= timedelta(days=(start.weekday() + 1) % 7)
    elif unit == "month":
        start = start.replace(day=1)
    elif unit == "year":
        start = start.replace(month=1, day=1)
    if edge == "end":
        after = shift(start, "1" + NATURAL_UNIT[unit])
        assert after is not None
        start = after - timedelta(milliseconds=1)
    if args:
        increment = args[0].strip()
        if re.fullmatch(r"[+-]?\d+", increment):
            increment += NATURAL_UNIT[unit]
        moved = shift(start, increment)
        if moved is None:
            raise DateError(f"Function '{name}' has an invalid increment '{args[0]}'.")
        start = moved
    return start


def field_value(text: str | None) -> datetime | None:
    """An issue's stored date (``2026-12-04T21:11:00.000+0000`` or ``2026-12-04``)."""
    if not text:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
