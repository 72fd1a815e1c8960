"""Background dispatch gives way to ingest: the niceness a relay or tenant host sets itself."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import os
from actors.priority import lower_priority
start = os.nice(0)
print(start, lower_priority({increment}), os.nice(0))
"""


def _run(increment: int, start_nice: int = 0) -> list[int]:
    done = subprocess.run(  # noqa: S603
        ["nice", "-n", str(start_nice), sys.executable, "-c", SCRIPT.format(increment=increment)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return [int(x) for x in done.stdout.split()]


def test_adds_the_increment() -> None:
    start, returned, now = _run(4, start_nice=15)
    assert (start, returned, now) == (15, 19, 19)


def test_is_capped_at_19_and_zero_changes_nothing() -> None:
    assert _run(10, start_nice=15) == [15, 19, 19]
    assert _run(0, start_nice=5) == [5, 5, 5]
