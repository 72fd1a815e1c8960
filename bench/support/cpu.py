"""CPU time by component over a load run: where each accepted request's CPU goes.

CPU seconds are a steadier measure than latency on a shared machine: other people's work makes
a run slower, but hardly changes how much CPU the service spends per request.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable

import psutil

# Process title (Ray retitles its workers "ray::<Class>...") → component.
COMPONENTS = (
    ("ray::ProxyActor", "Serve proxy"),
    ("ray::ServeReplica", "Ingress replicas"),
    ("ray::TenantHost", "tenant hosts"),
    ("ray::EventRelay", "event relay"),
    ("postgres", "PostgreSQL"),
    ("nats-server", "NATS"),
    ("uvicorn", "bare uvicorn"),
)


def component(proc: psutil.Process) -> str:
    """The component a process belongs to (``other`` for the rest of Ray)."""
    with contextlib.suppress(psutil.Error):
        title = " ".join(proc.cmdline()) or proc.name()
        for marker, name in COMPONENTS:
            if marker in title:
                return name
    return "other Ray / service processes"


def cpu_seconds(pids: Iterable[int]) -> dict[int, tuple[str, float]]:
    """Per pid: component and user + system CPU seconds so far."""
    found = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            times = proc.cpu_times()
            found[pid] = (component(proc), times.user + times.system)
    return found


def spent(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds per component between two samples (processes that ended are not counted)."""
    total: dict[str, float] = defaultdict(float)
    for pid, (name, seconds) in after.items():
        total[name] += seconds - before.get(pid, (name, 0.0))[1]
    return dict(total)
