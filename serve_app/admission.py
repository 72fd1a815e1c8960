"""Admission control of the webhook ingest: a bound on the requests one replica works on at once.

Past the bound a webhook is answered 503 with ``Retry-After`` at once, before its body is read,
instead of queueing behind the others for seconds: Atlassian, Bitbucket and Standard Webhooks
senders retry a 5xx later, while a request that waits in the replica until the sender's own
timeout is lost work for both sides. Nothing of a shed request is written or queued, and a 202
still goes out only after the durable write.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from prometheus_client import Gauge

from core.errors import RateLimited


class Overloaded(RateLimited):
    """503: the replica is at its in-flight bound; the sender should retry after a moment.

    A ``RateLimited`` so the one problem mapping (serve_app/problems.py) gives it ``Retry-After``
    and does not log it: shedding must stay cheap at the moment the replica is busiest.
    """

    code = "overloaded"
    status = 503
    title = "Overloaded"


class Admission:
    """Counts webhook requests in flight in this replica and refuses one past ``limit``.

    Plain integers on the replica's one event loop (no lock needed); the gauges read them at
    scrape time, so the hot path pays nothing for the metrics.
    """

    def __init__(
        self, limit: int, retry_after_s: int, inflight: Gauge | None = None,
        limit_gauge: Gauge | None = None, retry_spread: Callable[[], int] = lambda: 0,
    ) -> None:  # fmt: skip
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.retry_spread = retry_spread
        """The spread (seconds) of a refusal's Retry-After now (serve_app/retry_window.py)."""
        self.inflight = 0
        self.arrived = self.refused = 0
        """Webhooks that reached this replica, and those refused at its bound (counts only)."""
        if inflight is not None:
            inflight.set_function(lambda: self.inflight)
        if limit_gauge is not None:
            limit_gauge.set_function(lambda: self.limit)

    def enter(self) -> bool:
        """Take a slot; False (and nothing taken) when the replica is at its bound."""
        self.arrived += 1
        if self.inflight >= self.limit:
            self.refused += 1
            return False
        self.inflight += 1
        return True

    def leave(self) -> None:
        """Give a slot back (exactly once per successful ``enter``)."""
        self.inflight -= 1

    def refusal(self) -> Overloaded:
        """The error a shed request is answered with: its Retry-After drawn from
        ``[retry_after_s, retry_after_s + retry_spread()]``, so the senders shed in one moment
        do not all come back in the same second (the spread widens while shedding lasts,
        serve_app/retry_window.py)."""
        wait = self.retry_after_s + random.randint(0, self.retry_spread())  # noqa: S311 - jitter
        return Overloaded(
            f"this replica is working on {self.limit} webhooks already; retry after {wait} s",
            retry_after_s=wait,
        )
