"""Supervise one sandbox process: bounded output, wall timeout, kill of the whole tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence

from sandbox.backends.base import KilledReason, Limits, RunResult
from sandbox.backends.cgroups import RunCgroup
from sandbox.backends.output import BoundedBuffer, pump, reasons_from_stderr

_SIGNAL_REASONS = {
    int(signal.SIGXCPU): KilledReason.CPU,
    int(signal.SIGXFSZ): KilledReason.FILE_SIZE,
}


def run_supervised(
    command: Sequence[str],
    limits: Limits,
    preexec: Callable[[], None],
    cgroup: RunCgroup,
    backend: str,
) -> RunResult:
    """Run ``command`` (a sandbox launcher) and supervise it until it ends or is killed."""
    started = time.monotonic()
    proc = subprocess.Popen(  # preexec: cgroup join + rlimits only
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={},
        preexec_fn=preexec,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None  # both are PIPEs
    out, err = BoundedBuffer(limits.max_output_bytes), BoundedBuffer(limits.max_output_bytes)
    over = threading.Event()
    readers = [
        threading.Thread(target=pump, args=(proc.stdout, out, over), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, err, over), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        ended_by = _wait(proc, limits.wall_timeout_s, over, started)
    except BaseException:  # a cancelled Ray task gets KeyboardInterrupt here: end the run too
        _kill_tree(proc, cgroup)
        raise
    if ended_by is not None or proc.returncode is None:
        _kill_tree(proc, cgroup)
    for reader in readers:
        reader.join(timeout=5)
    exit_code = proc.wait()
    _kill_tree(proc, cgroup)  # a daemonised grandchild must not outlive the run
    return build_result(
        backend, command, exit_code, (out, err), ended_by, cgroup.limits_hit(), started
    )


def build_result(
    backend: str,
    argv: Sequence[str],
    exit_code: int,
    streams: tuple[BoundedBuffer, BoundedBuffer],
    ended_by: KilledReason | None,
    hit: list[KilledReason],
    started: float,
) -> RunResult:
    """The result of a finished run: what ended it and which limits it ran into."""
    out, err = streams
    stderr = err.text()
    return RunResult(
        backend=backend,
        argv=list(argv),
        exit_code=exit_code,
        stdout=out.text(),
        stderr=stderr,
        stdout_truncated=out.truncated,
        stderr_truncated=err.truncated,
        timed_out=ended_by is KilledReason.TIMEOUT,
        killed_reason=ended_by or reason_of_exit(exit_code, hit, stderr),
        limits_hit=union(hit, [ended_by] if ended_by else [], hit_by_exit(exit_code, stderr)),
        duration_s=time.monotonic() - started,
    )


def _wait(
    proc: subprocess.Popen[bytes], timeout_s: float, over: threading.Event, started: float
) -> KilledReason | None:
    """Wait for the end of the run; the reason the supervisor must end it, if any."""
    while True:
        if over.is_set():
            return KilledReason.OUTPUT_LIMIT
        left = timeout_s - (time.monotonic() - started)
        if left <= 0:
            return KilledReason.TIMEOUT
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=min(left, 0.05))
            # Output may still be in flight: the readers decide whether it went over the limit.
            return KilledReason.OUTPUT_LIMIT if over.is_set() else None


def _kill_tree(proc: subprocess.Popen[bytes], cgroup: RunCgroup) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    cgroup.kill_all()


def hit_by_exit(exit_code: int, stderr: str) -> list[KilledReason]:
    """Limits an exit status tells of: a signal number, negative or as 128+N from a launcher."""
    if exit_code == 0:
        return []
    signum = -exit_code if exit_code < 0 else exit_code - 128
    by_signal = _SIGNAL_REASONS.get(signum) if signum > 0 else None
    return union([by_signal] if by_signal else [], reasons_from_stderr(stderr))


def reason_of_exit(exit_code: int, hit: list[KilledReason], stderr: str) -> KilledReason | None:
    """The limit that ended a run that was not stopped by the supervisor, if one did."""
    if exit_code == 0:
        return None
    candidates = union(hit, hit_by_exit(exit_code, stderr))
    return candidates[0] if candidates else None


def union(*groups: list[KilledReason]) -> list[KilledReason]:
    seen: list[KilledReason] = []
    for group in groups:
        seen += [reason for reason in group if reason not in seen]
    return seen
