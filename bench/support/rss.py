"""Resident memory of every process of a run, sampled in a thread: does anything grow?"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psutil

from bench.support.cpu import component


@dataclass
class RssSamples:
    """Per pid: its component and (seconds since start, RSS bytes) samples."""

    series: dict[int, tuple[str, list[tuple[float, int]]]] = field(default_factory=dict)

    def add(self, at: float, pids: set[int]) -> None:
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                rss = proc.memory_info().rss
                name, points = self.series.setdefault(pid, (component(proc), []))
                points.append((at, rss))

    def by_component(self) -> dict[str, tuple[int, float, float, float]]:
        """Component → (processes, MiB at the first sample, at the last, the most at once).

        Sums over the component's processes at each sample time; a process that started or
        ended during the run counts only while it was there.
        """
        times = sorted({at for _, points in self.series.values() for at, _ in points})
        totals: dict[str, dict[float, int]] = {}
        counts: dict[str, int] = {}
        for name, points in self.series.values():
            counts[name] = counts.get(name, 0) + 1
            per = totals.setdefault(name, {})
            for at, rss in points:
                per[at] = per.get(at, 0) + rss
        mib = 2**20
        found = {}
        for name, per in totals.items():
            present = [per[at] for at in times if at in per]
            found[name] = (counts[name], present[0] / mib, present[-1] / mib, max(present) / mib)
        return found

    def growth(self) -> tuple[int, str, float]:
        """The process whose RSS grew most from its first to its last sample (pid, comp., MiB)."""
        best = (0, "", 0.0)
        for pid, (name, points) in self.series.items():
            grown = (points[-1][1] - points[0][1]) / 2**20
            if grown > best[2]:
                best = (pid, name, grown)
        return best


@contextlib.contextmanager
def sampling(pids: Callable[[], set[int]], every_s: float = 10.0) -> Iterator[RssSamples]:
    """Sample the RSS of ``pids()`` every ``every_s`` seconds for the duration of the block."""
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
