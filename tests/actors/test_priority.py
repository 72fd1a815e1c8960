"""Background dispatch gives way to ingest: the niceness a relay or tenant host sets itself."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil

from tests.conftest import TestServices

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


SHARE_SCRIPT = """
import asyncio, os, sys
from actors.priority import share_priority
from core.db import Database

async def main():
    db = Database(sys.argv[1], on_connect=share_priority)
    print(await db.fetchval("SELECT pg_backend_pid()"), flush=True)
    sys.stdin.readline()  # keep the connection open while the test looks at its backend
    await db.close()

asyncio.run(main())
"""


def test_backends_of_a_lowered_process_share_its_priority(test_services: TestServices) -> None:
    """A relay's or tenant host's PostgreSQL backend gets its niceness, where we may set it."""
    proc = subprocess.Popen(  # noqa: S603
        ["nice", "-n", "17", sys.executable, "-c", SHARE_SCRIPT, test_services.database_url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None
        backend = psutil.Process(int(proc.stdout.readline()))
        may_renice = os.geteuid() == 0 or backend.uids().real == os.getuid()
        if may_renice:
            assert backend.nice() == 17
        else:  # another user's server: left as it is, and the connection still works
            assert backend.nice() < 17
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
