"""A cheap open-loop HTTP/1.1 sender for the webhook benchmarks (fixed rates and the soak).

The benchmarks' load generator runs on the same two CPUs as the service it measures, so what it
spends per request is taken from the service. aiohttp cost about 1 CPU ms per request (a task, a
request object, header dicts and a response object each time); the soak's sender took 95 % of
one core. This one sends requests built as bytes beforehand (or signed right before sending:
an HMAC is a few microseconds) over keep-alive connections with plain asyncio protocols, and
parses of each answer only the status line, ``Content-Length`` / ``Transfer-Encoding``,
``Connection`` and ``Retry-After``. No task per request: the schedule loop writes, each
connection's ``data_received`` finishes its request and takes the next waiting one.

Open loop like before: a request due while every connection is busy opens another one (up to
``max_connections``; past that it waits in order, its latency counting from its due time), and
a request without an answer within ``timeout_s`` counts as lost (its connection is dropped).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Done = Callable[[int, float, float], None]
"""Called once per request: status (-1: no answer or a connection error), Retry-After seconds
(1 when absent or not a number), perf_counter time of the answer."""


def request_bytes(host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """One HTTP/1.1 POST with a keep-alive connection, as bytes."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(slots=True)
class _Pending:
    payload: bytes
    done: Done
    queued_at: float
    resent: bool = False


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, the answer parsed minimally."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.transport: asyncio.Transport | None = None
        self.current: _Pending | None = None
        self.sent_at = 0.0
        self.idle_since = 0.0
        self.served = 0
        self.buf = bytearray()
        self.closed = False

    # --- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.sender._lost(self)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if self.current is None:
            return  # unsolicited bytes: dropped with the connection below
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buf[:end]).lower()
        status = int(buf[9:12])
        length = _header(head, b"content-length")
        if length is not None:
            if len(buf) < end + 4 + int(length):
                return
            rest = end + 4 + int(length)
        elif _header(head, b"transfer-encoding") == b"chunked":
            last = buf.find(b"\r\n0\r\n\r\n", end)
            if last < 0 and not buf.startswith(b"0\r\n\r\n", end + 4):
                return
            rest = len(buf)
        else:
            return  # read until close (connection_lost finishes it)
        retry = _header(head, b"retry-after")
        retry_after = float(retry) if retry is not None and retry.isdigit() else 1.0
        keep = _header(head, b"connection") != b"close" and rest == len(buf)
        del buf[:]
        self._finish(status, retry_after, keep)

    # --- sender side --------------------------------------------------------------------------
    def start(self, item: _Pending, now: float) -> None:
        self.current, self.sent_at = item, now
        assert self.transport is not None
        self.transport.write(item.payload)

    def _finish(self, status: int, retry_after: float, keep: bool) -> None:
        item, self.current = self.current, None
        self.served += 1
        assert item is not None
        item.done(status, retry_after, time.perf_counter())
        if keep and not self.closed:
            self.sender._free(self)
        else:
            self.drop()

    def drop(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


def _header(head: bytes, name: bytes) -> bytes | None:
    """The value of header ``name`` in a lower-cased header block (None when absent)."""
    at = head.find(b"\r\n" + name + b":")
    if at < 0:
        return None
    start = at + len(name) + 3
    stop = head.find(b"\r\n", start)
    return head[start : stop if stop >= 0 else len(head)].strip()


class Sender:
    """Keep-alive connections to one host; ``send`` never blocks and never creates a task per
    request. Use inside a running loop; ``close`` when done."""

    def __init__(self, url: str, *, max_connections: int = 512, timeout_s: float = 5.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.authority = f"{self.host}:{self.port}"
        self.path = parts.path or "/"
        self.max_connections = max_connections
        self.timeout_s = timeout_s
        self.idle: list[_Connection] = []
        self.busy: set[_Connection] = set()
        self.opening = 0
        self.waiting: collections.deque[_Pending] = collections.deque()
        self.connections_opened = 0
        self._loop = asyncio.get_running_loop()
        self._reaper = self._loop.call_later(0.1, self._reap)

    def request(self, headers: dict[str, str], body: bytes) -> bytes:
        """A POST to this sender's path with ``headers`` and ``body``, as bytes."""
        return request_bytes(self.authority, self.path, headers, body)

    def send(self, payload: bytes, done: Done) -> None:
        """Send one pre-built request now (or as soon as a connection is free)."""
        item = _Pending(payload, done, time.perf_counter())
        if self.idle:
            self._start(self.idle.pop(), item)
            return
        self.waiting.append(item)
        if self.opening + len(self.busy) < self.max_connections and self.opening < len(
            self.waiting
        ):
            self._open()

    def _start(self, conn: _Connection, item: _Pending) -> None:
        self.busy.add(conn)
        conn.start(item, time.perf_counter())

    def _open(self) -> None:
        self.opening += 1
        self.connections_opened += 1
        task = self._loop.create_task(
            self._loop.create_connection(lambda: _Connection(self), self.host, self.port)
        )
        task.add_done_callback(self._opened)

    def _opened(self, task: asyncio.Task[tuple[asyncio.BaseTransport, _Connection]]) -> None:
        self.opening -= 1
        if task.cancelled() or task.exception() is not None:
            if self.waiting and self.opening == 0 and not self.busy and not self.idle:
                item = self.waiting.popleft()  # nobody else will take it: fail one, try again
                item.done(-1, 1.0, time.perf_counter())
                if self.waiting:
                    self._open()
            return
        _, conn = task.result()
        self._free(conn)

    def _free(self, conn: _Connection) -> None:
        """A connection finished its request (or just opened): next waiting request, or idle."""
        self.busy.discard(conn)
        if self.waiting:
            self._start(conn, self.waiting.popleft())
        else:
            conn.idle_since = time.perf_counter()
            self.idle.append(conn)

    def _lost(self, conn: _Connection) -> None:
        self.busy.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)
        item, conn.current = conn.current, None
        if item is None:
            return
        if conn.served and not conn.buf and not item.resent:
            # a kept-alive connection the server closed as we reused it: not the server failing
            # this request (it never saw it); send it once more on another connection
            item.resent = True
            self.waiting.appendleft(item)
            self._open()
            return
        item.done(-1, 1.0, time.perf_counter())

    def _reap(self) -> None:
        """Every 100 ms: time out requests (dropping their connection), close long-idle ones."""
        now = time.perf_counter()
        for conn in [c for c in self.busy if now - c.sent_at > self.timeout_s]:
            item, conn.current = conn.current, None
            self.busy.discard(conn)
            conn.drop()
            if item is not None:
                item.done(-1, 1.0, now)
        while self.waiting and now - self.waiting[0].queued_at > self.timeout_s:
            self.waiting.popleft().done(-1, 1.0, now)
        # servers close idle keep-alive connections after a few seconds; close them first
        for conn in [c for c in self.idle if now - c.idle_since > 2.0]:
            self.idle.remove(conn)
            conn.drop()
        self._reaper = self._loop.call_later(0.1, self._reap)

    def close(self) -> None:
        self._reaper.cancel()
        for conn in [*self.idle, *self.busy]:
            conn.drop()
        self.idle.clear()
        self.busy.clear()


def cpu_s() -> float:
    """This process's CPU seconds so far (user + system, all threads)."""
    return time.process_time()


def run(main: Callable[[], object]) -> object:
    """Run a coroutine function on uvloop when installed (a dependency of the project)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is installed with uvicorn[standard]
        return asyncio.run(main())  # type: ignore[arg-type]
    return uvloop.run(main())  # type: ignore[arg-type]
