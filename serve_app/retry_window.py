"""How long a shed webhook's sender is told to wait: a Retry-After window that widens while the
shedding lasts and narrows again after it.

A 503 under overload tells the sender when to come back. With a fixed few seconds, every sender
refused during a burst comes back within those seconds, is refused again and comes back again:
the service spends its CPU refusing the same requests over and over, and once the burst is over
the retries of everything refused during it keep it overloaded (issue #19: a 60 s burst at twice
the soak's rate left the ingest shedding new webhooks for 40-55 s after it, and the senders gave
up on 16k webhooks after 10 tries each).

So the window is steered by what was refused (as a sender's backoff grows, but decided by the
one side that sees every sender): every second in which more than :data:`REFUSED_SHARE` of the
webhooks that reached this node were refused (by HAProxy at the door, after its queue timeout,
or by a replica's in-flight bound), the spread grows by :data:`GROWTH` (×1.5), up to
``overload_retry_spread_max_s``; every second without, it shrinks by :data:`SHRINK` (×0.8) down
to ``overload_retry_spread_s``. The senders
refused during a long burst are told to come back over a minute or two instead of over four
seconds, so they come back at a rate the service can take on top of new work. A short spike
stays a short wait.

Every ingress replica steers it once a second (a task started by its first webhook: it must
run while HAProxy refuses everything before a replica sees it), from this node's HAProxy
statistics and its own admission counts, and writes the result to the HAProxy of its node (the
process variable ``proc.dcoder_retry_range`` its shed backend draws from,
serve_app/launcher/haproxy_shim.py); its own admission control reads the window itself.
Replicas on one node read the same statistics, so they agree.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from serve_app.admission import Admission
from serve_app.haproxy_stats import Complaints, admin_command, admin_sockets, door_counters
from serve_app.launcher.haproxy_shim import RETRY_RANGE_VAR

log = logging.getLogger(__name__)

REFUSED_SHARE = 0.02
"""Share of the webhooks reaching the node that, refused, counts a second as overloaded."""
GROWTH = 1.5
"""Factor per overloaded second."""
SHRINK = 0.8
"""Factor per second without overload."""
STEER_EVERY_S = 1.0
WRITE_TIMEOUT_S = 1.0
_write_complaints = Complaints("HAProxy's admin socket (the Retry-After range)")


@dataclass
class Tally:
    """Cumulative counts of requests that reached the node and of those refused."""

    arrived: float = 0.0
    refused: float = 0.0


class RetryWindow:
    """The spread (seconds) added at random to a shed request's shortest Retry-After."""

    def __init__(self, least_s: int, most_s: int) -> None:
        self.least_s = least_s
        self.most_s = max(most_s, least_s)
        self.spread = float(least_s)

    @property
    def seconds(self) -> int:
        """The spread in whole seconds, as the Retry-After header carries it."""
        return round(self.spread)

    def update(self, arrived: float, refused: float, elapsed_s: float) -> int:
        """Fold in ``elapsed_s`` seconds in which ``arrived`` requests came and ``refused`` of
        them were refused; the spread in whole seconds."""
        overloaded = arrived > 0 and refused > REFUSED_SHARE * arrived
        # a gap without requests counts as calm; growth is judged per period seen
        steps = min(elapsed_s, 1.0) if overloaded else elapsed_s
        if overloaded:
            self.spread = min(self.most_s, max(self.spread, 1.0) * GROWTH**steps)
        else:
            self.spread = max(self.least_s, self.spread * SHRINK**steps)
        return self.seconds


class RetrySteering:
    """One replica's steering of the window, once :meth:`start` ed."""

    def __init__(
        self, window: RetryWindow, admission: Admission, every_s: float = STEER_EVERY_S
    ) -> None:
        self.window = window
        self.admission = admission
        self.every_s = every_s
        self._seen: Tally | None = None
        self._at = time.monotonic()
        self._written: int | None = None
        self._running: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Steer every ``every_s`` from now on, in the background (idempotent)."""
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._steer_forever())

    def stop(self) -> None:
        if self._running is not None:
            self._running.cancel()

    async def _steer_forever(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self._steer()
            except Exception as err:  # noqa: BLE001 - one step lost; the next one tries again
                log.warning("Retry-After steering step failed: %r", err)

    async def _steer(self) -> None:
        now = time.monotonic()
        elapsed, self._at = now - self._at, now
        tally = await self._tally()
        seen, self._seen = self._seen, tally
        if seen is None:
            return
        seconds = self.window.update(
            tally.arrived - seen.arrived, tally.refused - seen.refused, elapsed
        )
        # Rewritten every step while wider than the start value: an HAProxy that Serve restarted
        # (a config reload) starts again from the value in its global section, the least.
        if seconds != self._written or seconds > self.window.least_s:
            await write_range(seconds + 1)
            self._written = seconds

    async def _tally(self) -> Tally:
        tally = Tally(self.admission.arrived, self.admission.refused)
        door = await door_counters()
        if door is not None:
            # what HAProxy refused never reached a replica: count it as arrived too
            tally.arrived += door.shed + door.gave_up
            tally.refused += door.shed + door.gave_up
        return tally


async def write_range(value: int, sockets: list[Path] | None = None) -> None:
    """Set ``proc.dcoder_retry_range`` in every HAProxy of this node (best effort)."""
    command = f"experimental-mode on; set var {RETRY_RANGE_VAR} int({int(value)})"
    for path in admin_sockets() if sockets is None else sockets:
        try:
            await admin_command(path, command, WRITE_TIMEOUT_S)
        except (OSError, TimeoutError) as err:
            _write_complaints.failed(path, err)
        else:
            _write_complaints.answered(path)
