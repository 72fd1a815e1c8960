"""An open-loop sender for long runs: a piecewise-constant arrival rate, requests signed as they
are sent (a 10-minute run would not fit pre-signed in memory), and retries after a 503 as real
senders do (Atlassian, Bitbucket and Standard Webhooks senders retry on 5xx and timeouts; the
same ``webhook-id`` again is safe: a delivery already accepted answers 200, a duplicate)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import numpy as np

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
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    # Open loop: a slow server must not be hidden by the sender waiting for a free connection.
    connector = aiohttp.TCPConnector(limit=4096)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def post(msg_id: str) -> tuple[int, float]:
            stamp = int(time.time())
            headers = {
                "content-type": "application/json", "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign_standard(secret, msg_id, stamp, BODY),
            }  # fmt: skip
            try:
                async with session.post(url, data=BODY, headers=headers) as response:
                    await response.read()
                    retry = response.headers.get("retry-after", "1")
                    return response.status, float(retry) if retry.isdigit() else 1.0
            except (aiohttp.ClientError, TimeoutError):
                return -1, 1.0

        async def one(n: int, started: float) -> None:
            msg_id = f"{prefix}-{n}"
            for attempt in range(1, MAX_ATTEMPTS + 1):
                status, retry_after = await post(msg_id)
                if attempt == 1:
                    sent.first_status[n] = status
                    sent.first_latency[n] = time.perf_counter() - (started + due[n])
                sent.final_status[n], sent.attempts[n] = status, attempt
                if status != -1 and status < 500:
                    return
                await asyncio.sleep(retry_after)

        cpu0, start = time.process_time(), time.perf_counter() + 0.05
        tasks = set()
        for n in range(n_req):
            delay = start + due[n] - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n, start))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*list(tasks))
        sent.generator_cpu = (time.process_time() - cpu0) / (time.perf_counter() - start)
    return sent


def send(url: str, secret: str, prefix: str, phases: list[Phase]) -> Sent:
    """Send ``phases`` to ``url``; blocking (uvloop when installed)."""
    due = schedule(phases)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_send(url, secret, prefix, due))
    return uvloop.run(_send(url, secret, prefix, due))


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
