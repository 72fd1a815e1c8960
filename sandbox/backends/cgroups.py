"""Per-run control groups for the daemonless backend: process and memory limits, tree kill.

rlimits alone cannot contain a fork bomb when the service runs as root (the kernel does not
enforce RLIMIT_NPROC for root) and count per user, not per run. Where the cgroup filesystem is
writable (root on cgroup v1, or a delegated v2 subtree) each run gets its own group; elsewhere
the backend falls back to rlimits and reports that.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from sandbox.backends.base import KilledReason

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP_PARENT = "dcoder-sandbox"


class RunCgroup:
    """The control group(s) of one run. ``dirs`` is empty when none could be created."""

    def __init__(self, name: str, memory_mb: int, pids: int, root: Path = CGROUP_ROOT) -> None:
        self.v2 = (root / "cgroup.controllers").exists()
        self.dirs: dict[str, Path] = {}
        with contextlib.suppress(OSError):
            if self.v2:
                self._make_v2(root, name, memory_mb, pids)
            else:
                self._make_v1(root, name, memory_mb, pids)
        self._procs = [str(group / "cgroup.procs") for group in self.dirs.values()]

    def _make_v1(self, root: Path, name: str, memory_mb: int, pids: int) -> None:
        for controller, limits in (
            ("pids", {"pids.max": str(pids)}),
            ("memory", {"memory.limit_in_bytes": str(memory_mb * 2**20)}),
        ):
            group = root / controller / GROUP_PARENT / name
            group.mkdir(parents=True, exist_ok=True)
            self.dirs[controller] = group
            for key, value in limits.items():
                (group / key).write_text(value)
        # No swap beyond the limit (the file exists only where swap accounting is on).
        memsw = self.dirs["memory"] / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            memsw.write_text(str(memory_mb * 2**20))

    def _make_v2(self, root: Path, name: str, memory_mb: int, pids: int) -> None:
        parent = root / GROUP_PARENT
        parent.mkdir(exist_ok=True)
        (parent / "cgroup.subtree_control").write_text("+pids +memory")
        group = parent / name
        group.mkdir(exist_ok=True)
        self.dirs["unified"] = group
        (group / "pids.max").write_text(str(pids))
        (group / "memory.max").write_text(str(memory_mb * 2**20))
        (group / "memory.swap.max").write_text("0")

    @property
    def active(self) -> bool:
        """True when this run is really inside a control group."""
        return bool(self.dirs)

    def join(self) -> None:
        """Move the calling process into the group(s); called in the child before exec.

        Runs between fork and exec of a possibly multi-threaded parent, so it only makes
        system calls on paths computed beforehand (no Python-level locks, no allocation-heavy
        work).
        """
        pid = str(os.getpid()).encode()
        for procs in self._procs:
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def pids(self) -> set[int]:
        """Every process still in the group(s)."""
        found: set[int] = set()
        for group in self.dirs.values():
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (group / "cgroup.procs").read_text().split())
        return found

    def kill_all(self) -> None:
        """SIGKILL every process of the run, however it forked or double-forked."""
        kill_file = self.dirs.get("unified", Path("/nonexistent")) / "cgroup.kill"
        if kill_file.exists():
            kill_file.write_text("1")
            return
        # v1 has no cgroup.kill: repeat until nothing is left (a fork may race one pass).
        for _ in range(50):
            alive = self.pids()
            if not alive:
                return
            for pid in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def limits_hit(self) -> list[KilledReason]:
        """Which group limits the run ran into."""
        hit: list[KilledReason] = []
        if self._counter("pids", "pids.events", "max") or self._counter(
            "unified", "pids.events", "max"
        ):
            hit.append(KilledReason.PIDS)
        if self._counter("memory", "memory.oom_control", "oom_kill") or self._counter(
            "unified", "memory.events", "oom_kill"
        ):
            hit.append(KilledReason.MEMORY)
        return hit

    def _counter(self, controller: str, filename: str, key: str) -> int:
        group = self.dirs.get(controller)
        if group is None:
            return 0
        with contextlib.suppress(OSError, ValueError):
            for line in (group / filename).read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
        return 0

    def remove(self) -> None:
        """Delete the group(s) once the run is over."""
        self.kill_all()
        for group in self.dirs.values():
            with contextlib.suppress(OSError):
                group.rmdir()
