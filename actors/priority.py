"""CPU priority of background dispatch: webhook ingest answers clients, dispatch can wait."""

from __future__ import annotations

import contextlib
import logging
import os

import asyncpg
import psutil

log = logging.getLogger(__name__)


def lower_priority(increment: int) -> int:
    """Add ``increment`` to this process's niceness (capped at 19); return the new niceness.

    `up` starts Ray's workers at niceness 0 (Ray's default, 15, put the ingest replicas below
    every process of the machine, see ``serve_app.launcher.ray_head.RAY_ENV``); the Serve
    replicas stay there while relays, tenant hosts and job tasks move down by
    ``dispatch_nice``, so under CPU contention the scheduler favours ingest.

    On Linux a niceness belongs to a thread, and ``os.nice`` changes only the calling one: an
    actor's ``__init__`` runs in the thread of its event loop, while Ray's own threads (the
    worker's main thread, which serialises every call and its result, and its I/O threads) kept
    their niceness, and took as much CPU as the loop at the replicas' priority (issue #19: a
    relay's main thread at 15 using 17 % of a core at 300 webhooks/s). So every thread of the
    process is lowered; threads started later inherit it from the thread that starts them.
    """
    current = os.nice(0)
    if increment <= 0:
        return current
    return niceness_at_least(current + increment)


def niceness_at_least(niceness: int) -> int:
    """Raise every thread's niceness to at least ``niceness`` (capped at 19); return the new one.

    Unlike ``lower_priority`` it can be called again in the same process without going further
    down: a job task calls it at every start, in a Ray worker that runs many tasks.
    """
    current = os.nice(0)
    target = min(19, niceness)
    if current >= target:
        return current
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:  # not Linux: the niceness is the process's
        threads = []
    try:
        for tid in threads:
            with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                if os.getpriority(os.PRIO_PROCESS, tid) < target:
                    os.setpriority(os.PRIO_PROCESS, tid, target)
        if os.nice(0) < target:
            os.nice(target - os.nice(0))
    except OSError as err:  # e.g. a seccomp profile that forbids it: run at the old priority
        log.warning("could not lower CPU priority: %s", err)
    return os.nice(0)


async def share_priority(conn: asyncpg.Connection) -> None:
    """Give this connection's PostgreSQL backend our niceness, when it is a process of this host.

    Relays and tenant hosts yield the CPU to ingest, but the statements they send run in
    PostgreSQL backends at the server's own priority (usually 0): at 300 webhooks/s about half of
    PostgreSQL's CPU, competing at full weight with the ingest replica (niceness 15) the dispatch
    was meant to give way to. Only a backend that is verifiably the peer of one of this process's
    own TCP sockets is changed (a server elsewhere, or in another pid namespace, is left alone),
    and only towards a lower priority; one we may not renice keeps its own.
    """
    mine = os.nice(0)
    pid = conn.get_server_pid()
    try:
        ours = {c.laddr for c in psutil.Process().net_connections("tcp") if c.raddr}
        backend = psutil.Process(pid)
        if "postgres" not in backend.name() or not any(
            c.raddr in ours for c in backend.net_connections("tcp") if c.raddr
        ):
            return
        if backend.nice() < mine:
            backend.nice(mine)
    except (psutil.Error, OSError) as err:
        log.debug("PostgreSQL backend %s keeps its CPU priority: %s", pid, err)
