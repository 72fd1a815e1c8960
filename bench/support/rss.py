"""Memory of every process of a run, sampled in a thread: does anything grow?

Three measures per process (``/proc/<pid>/smaps_rollup`` through psutil):

- **RSS**, what ``ps`` shows: counts shared pages in every process that touched them, so the
  PostgreSQL backends' RSS grows as each one touches more of the shared buffers (a cache of a
  fixed size, not a leak) and a sum over processes counts those pages many times;
- **PSS**, shared pages divided among the processes that share them: summed per component it is
  the memory the component really takes;
- **USS**, the pages only this process has: where a leak shows.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psutil

from bench.support.cpu import component

MIB = 2**20


@dataclass
class Sample:
    at: float
    """Seconds since the sampling started."""
    rss: int
    pss: int
    uss: int


@dataclass
class RssSamples:
    """Per pid: its component and its samples."""

    series: dict[int, tuple[str, list[Sample]]] = field(default_factory=dict)

    def add(self, at: float, pids: set[int]) -> None:
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                mem = proc.memory_full_info()
                name, points = self.series.setdefault(pid, (component(proc), []))
                points.append(Sample(at, mem.rss, mem.pss, mem.uss))

    def by_component(self, measure: str = "pss") -> dict[str, tuple[int, float, float, float]]:
        """Component → (processes, MiB at the first sample, at the last, the most at once), of
        ``measure`` (``rss``, ``pss`` or ``uss``) summed over the component's processes.

        A process that started or ended during the run counts only while it was there.
        """
        times = sorted({s.at for _, points in self.series.values() for s in points})
        totals: dict[str, dict[float, int]] = {}
        counts: dict[str, int] = {}
        for name, points in self.series.values():
            counts[name] = counts.get(name, 0) + 1
            per = totals.setdefault(name, {})
            for s in points:
                per[s.at] = per.get(s.at, 0) + getattr(s, measure)
        found = {}
        for name, per in totals.items():
            present = [per[at] for at in times if at in per]
            found[name] = (counts[name], present[0] / MIB, present[-1] / MIB, max(present) / MIB)
        return found

    def growth(self, since: float = 0.0, measure: str = "uss") -> tuple[int, str, float]:
        """The process whose ``measure`` grew most from its first sample at or after ``since``
        seconds to its last (pid, component, MiB); processes gone by then are skipped."""
        best = (0, "", 0.0)
        for pid, (name, points) in self.series.items():
            late = [s for s in points if s.at >= since]
            if len(late) < 2:
                continue
            grown = (getattr(late[-1], measure) - getattr(late[0], measure)) / MIB
            if grown > best[2]:
                best = (pid, name, grown)
        return best


@contextlib.contextmanager
def sampling(pids: Callable[[], set[int]], every_s: float = 10.0) -> Iterator[RssSamples]:
    """Sample the memory of ``pids()`` every ``every_s`` seconds for the duration of the block."""
    samples = RssSamples()
    stop = threading.Event()
    started = time.monotonic()

    def run() -> None:
        while True:
            samples.add(time.monotonic() - started, pids())
            if stop.wait(every_s):
                break

    thread = threading.Thread(target=run, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join(timeout=60)
        samples.add(time.monotonic() - started, pids())
