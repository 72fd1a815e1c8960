"""CPU priority of background dispatch: webhook ingest answers clients, dispatch can wait."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def lower_priority(increment: int) -> int:
    """Add ``increment`` to this process's niceness (capped at 19); return the new niceness.

    Ray starts its workers at niceness 15; the Serve replicas stay there while relays and
    tenant hosts move towards 19, so under CPU contention the scheduler favours ingest.
    """
    current = os.nice(0)
    if increment <= 0 or current >= 19:
        return current
    try:
        return os.nice(min(increment, 19 - current))
    except OSError as err:  # e.g. a seccomp profile that forbids it: run at the old priority
        log.warning("could not lower CPU priority: %s", err)
        return current
