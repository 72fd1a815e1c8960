"""Per-tenant webhook rate limit: GCRA, O(1) per check, bounded memory (idle tenants evicted).

Each ingress replica keeps its own state (no shared store on the hot path), so the effective
limit of a tenant is ``rate × replicas``. A tenant's whole state is one float, its *theoretical
arrival time* (TAT): a request is allowed while ``TAT − now`` stays within the burst allowance.
Not thread-safe by design: a Serve replica handles requests on one event loop.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from core.errors import RateLimited
from core.settings import WebhookSettings

DEFAULT_MAX_TENANTS = 10_000


class TenantRateLimiter:
    """``rate_per_s`` sustained webhooks per tenant, with up to ``burst`` at once."""

    def __init__(
        self, rate_per_s: float, burst: int, max_tenants: int = DEFAULT_MAX_TENANTS
    ) -> None:
        if rate_per_s <= 0 or burst < 1 or max_tenants < 1:
            raise ValueError("rate_per_s > 0, burst >= 1 and max_tenants >= 1 are required")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_tenants = max_tenants
        self._interval = 1.0 / rate_per_s
        self._allowance = burst * self._interval
        self._tat: OrderedDict[str, float] = OrderedDict()

    @classmethod
    def from_settings(
        cls, settings: WebhookSettings, max_tenants: int = DEFAULT_MAX_TENANTS
    ) -> TenantRateLimiter:
        """A limiter with the rate and burst of ``DCODER_WEBHOOKS_*``."""
        return cls(settings.rate_per_s, settings.burst, max_tenants)

    def check(self, tenant_id: str, now: float) -> None:
        """Count one request of ``tenant_id`` at ``now`` (monotonic seconds), or raise RateLimited.

        A refused request is not counted, so a sender that honours ``Retry-After`` gets in.
        """
        tat = max(self._tat.get(tenant_id, now), now)
        new_tat = tat + self._interval
        excess = new_tat - now - self._allowance
        if excess > 1e-9:
            self._touch(tenant_id, tat)
            retry_after = max(1, math.ceil(excess))
            raise RateLimited(
                f"tenant {tenant_id!r} is over {self.rate_per_s:g} webhooks/s "
                f"(burst {self.burst}); retry in {retry_after} s",
                retry_after_s=retry_after,
            )
        self._touch(tenant_id, new_tat)

    def _touch(self, tenant_id: str, tat: float) -> None:
        self._tat[tenant_id] = tat
        self._tat.move_to_end(tenant_id)
        # Least recently seen first: a tenant idle long enough has a TAT in the past, and
        # forgetting it loses nothing (a fresh entry starts with a full burst as well).
        while len(self._tat) > self.max_tenants:
            self._tat.popitem(last=False)

    def __len__(self) -> int:
        """Tenants currently tracked."""
        return len(self._tat)
