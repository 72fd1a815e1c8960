"""An open-loop sender for long runs: a piecewise-constant arrival rate, requests signed as they
are sent (a 10-minute run would not fit pre-signed in memory), and retries after a 503 as real
senders do (Atlassian, Bitbucket and Standard Webhooks senders retry on 5xx and timeouts; the
same ``webhook-id`` again is safe: a delivery already accepted answers 200, a duplicate)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np

from bench.support.http_sender import Sender, run
from bench.support.load import BODY, CLIENT_TIMEOUT_S
from core.signing import sign_standard

MAX_ATTEMPTS = 10


@dataclass
class Phase:
    """``seconds`` of arrivals at ``rate`` per second."""

    seconds: float
    rate: float


@dataclass
class Sent:
    """Per request (index = request number): schedule and what came back."""

    due: np.ndarray
    """Scheduled send time of the first attempt, seconds from the start."""
    first_status: np.ndarray
    first_latency: np.ndarray
    """Seconds from the scheduled send time to the first attempt's answer."""
    final_status: np.ndarray
    attempts: np.ndarray
    generator_cpu: float = 0.0
    """The sender's CPU as a fraction of one core over the run."""
    generator_cpu_ms: float = 0.0
    """The sender's CPU ms per request sent (retries count as requests)."""

    def ids(self, prefix: str, *statuses: int) -> list[str]:
        """The ``webhook-id`` of every request whose last try was answered with ``statuses``."""
        hit = np.isin(self.final_status, statuses)
        return [f"{prefix}-{n}" for n in np.flatnonzero(hit)]


def schedule(phases: list[Phase]) -> np.ndarray:
    """Due times of every request of ``phases``, one after the other."""
    parts, start = [], 0.0
    for phase in phases:
        count = int(phase.seconds * phase.rate)
        parts.append(start + np.arange(count) / phase.rate)
        start += phase.seconds
    return np.concatenate(parts) if parts else np.array([])


async def _send(url: str, secret: str, prefix: str, due: np.ndarray) -> Sent:
    n_req = len(due)
    sent = Sent(due, np.zeros(n_req, int), np.zeros(n_req), np.zeros(n_req, int),
                np.zeros(n_req, int))  # fmt: skip
    # Open loop: a slow server must not be hidden by the sender waiting for a free connection.
    sender = Sender(url, max_connections=4096, timeout_s=CLIENT_TIMEOUT_S)
    loop = asyncio.get_running_loop()
    finished = loop.create_future()
    left = n_req

    def post(n: int, attempt: int) -> None:
        msg_id = f"{prefix}-{n}"
        stamp = int(time.time())  # signed as it is sent: a retry minutes later stays valid
        headers = {
            "Content-Type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign_standard(secret, msg_id, stamp, BODY),
        }  # fmt: skip
        sender.send(sender.request(headers, BODY), lambda *a: answered(n, attempt, *a))

    def answered(n: int, attempt: int, status: int, retry_after: float, at: float) -> None:
        nonlocal left
        if attempt == 1:
            sent.first_status[n] = status
            sent.first_latency[n] = at - (start + due[n])
        sent.final_status[n], sent.attempts[n] = status, attempt
        if (status == -1 or status >= 500) and attempt < MAX_ATTEMPTS:
            loop.call_later(retry_after, post, n, attempt + 1)
            return
        left -= 1
        if not left and not finished.done():
            finished.set_result(None)

    cpu0, start = time.process_time(), time.perf_counter() + 0.05
    for n in range(n_req):
        delay = start + due[n] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        post(n, 1)
    if n_req:
        await finished
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - start
    sender.close()
    sent.generator_cpu = cpu / wall
    sent.generator_cpu_ms = cpu * 1e3 / max(int(sent.attempts.sum()), 1)
    return sent


def send(url: str, secret: str, prefix: str, phases: list[Phase]) -> Sent:
    """Send ``phases`` to ``url``; blocking (on uvloop)."""
    due = schedule(phases)
    return run(lambda: _send(url, secret, prefix, due))  # type: ignore[return-value]


def windows(sent: Sent, width_s: float) -> list[tuple[float, int, int, int, float, float]]:
    """Per window of scheduled time: start s, sent, first-attempt 202s, 503s, p50 and p99 ms."""
    rows = []
    end = float(sent.due[-1]) if len(sent.due) else 0.0
    start = 0.0
    while start <= end:
        mask = (sent.due >= start) & (sent.due < start + width_s)
        lat = sent.first_latency[mask] * 1e3
        status = sent.first_status[mask]
        p50, p99 = (float(np.percentile(lat, q)) for q in (50, 99)) if len(lat) else (0.0, 0.0)
        rows.append((start, int(mask.sum()), int((status == 202).sum()),
                     int((status == 503).sum()), p50, p99))  # fmt: skip
        start += width_s
    return rows
