"""Bounded capture of a sandboxed run's stdout/stderr, shared by the backends."""

from __future__ import annotations

import re
import threading
from typing import IO

from sandbox.backends.base import KilledReason

CHUNK = 64 * 1024

# What a process prints when an rlimit refused it something (it then exits on its own): the
# backends turn these into a reason, so "out of memory" is visible without reading stderr.
_LIMIT_MESSAGES = (
    (KilledReason.MEMORY, re.compile(r"MemoryError|Cannot allocate memory|[Oo]ut of memory")),
    (KilledReason.FILE_SIZE, re.compile(r"File too large|File size limit exceeded")),
    (KilledReason.PIDS, re.compile(r"Resource temporarily unavailable|fork: retry|can't fork")),
)


class BoundedBuffer:
    """Keeps the first ``limit`` bytes; remembers whether more arrived."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self.truncated = False

    def feed(self, chunk: bytes) -> bool:
        """Add a chunk; False once the limit is exceeded (the caller stops the run)."""
        room = self.limit - self._size
        if len(chunk) > room:
            self._parts.append(chunk[: max(room, 0)])
            self._size = self.limit
            self.truncated = True
            return False
        self._parts.append(chunk)
        self._size += len(chunk)
        return True

    def text(self) -> str:
        """The kept bytes as text (UTF-8, undecodable bytes replaced)."""
        return b"".join(self._parts).decode("utf-8", errors="replace")


def pump(stream: IO[bytes], buffer: BoundedBuffer, over_limit: threading.Event) -> None:
    """Copy ``stream`` into ``buffer`` until EOF or until the limit is exceeded."""
    with stream:
        while chunk := stream.read1(CHUNK) if hasattr(stream, "read1") else stream.read(CHUNK):
            if not buffer.feed(chunk):
                over_limit.set()
                return


def reasons_from_stderr(stderr: str) -> list[KilledReason]:
    """Limits a process reported running into (it may have exited on its own afterwards)."""
    tail = stderr[-8192:]
    return [reason for reason, pattern in _LIMIT_MESSAGES if pattern.search(tail)]
