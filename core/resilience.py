"""Retries and circuit breakers: typed retry decisions, full-jitter backoff, per-endpoint breakers.

* ``classify`` / ``RetryPolicy``: whether a failed delivery is retried (with exponential backoff and
  full jitter) or dead-lettered; the error type decides, ``max_attempts`` bounds it.
* ``CircuitBreaker``: after ``failure_threshold`` consecutive failures of one endpoint (e.g. one
  Jira site) calls fail fast with ``CircuitOpen`` for ``cooldown_s``; then up to
  ``half_open_max_calls`` trial calls run, and the first success closes the breaker again.
* ``breaker_transport``: an httpx transport that sends every outbound call through the breaker of
  its endpoint, with a timeout, counting 5xx, 429 and transport errors as failures.

Breakers are not thread-safe by design: each lives on one event loop (one actor or replica).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx
import pydantic

from core.errors import (
    BusError,
    CircuitOpen,
    ClientError,
    DependencyUnavailable,
    PermanentError,
    PluginAuthFailed,
    PluginConfigInvalid,
    PluginNotReady,
    PluginValidationError,
    RateLimited,
    RetryableError,
    ValidationFailed,
)
from core.settings import WebhookSettings

T = TypeVar("T")
Decision = Literal["retry", "dead"]
BreakerState = Literal["closed", "open", "half_open"]
StateListener = Callable[[str, BreakerState], None]

_DEAD: tuple[type[BaseException], ...] = (
    PermanentError, PluginConfigInvalid, PluginAuthFailed, PluginValidationError,
    ValidationFailed, ClientError, pydantic.ValidationError,
)  # fmt: skip
_RETRY: tuple[type[BaseException], ...] = (
    RetryableError, PluginNotReady, DependencyUnavailable, BusError, TimeoutError,
    httpx.TransportError,
)  # fmt: skip
# Statuses a later attempt can fix; any other 4xx is the request's own fault.
RETRY_STATUSES = frozenset({408, 425, 429})


def is_failure_status(status: int) -> bool:
    """Whether an HTTP response status counts against its endpoint (5xx, 429, 408, 425)."""
    return status >= 500 or status in RETRY_STATUSES


def classify(exc: BaseException) -> Decision:
    """``dead`` for errors no retry can fix, ``retry`` otherwise (unknown errors included)."""
    if isinstance(exc, RateLimited):  # the one client error that a later attempt fixes
        return "retry"
    if isinstance(exc, _DEAD):
        return "dead"
    if isinstance(exc, _RETRY):
        return "retry"
    if isinstance(exc, httpx.HTTPStatusError):
        return "retry" if is_failure_status(exc.response.status_code) else "dead"
    return "retry"  # unknown: bounded by max_attempts


def describe_error(exc: BaseException, limit: int = 500) -> str:
    """``Type: message`` of an error, truncated, for ``last_error`` fields and health."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def call_with_timeout(fn: Callable[[], Awaitable[T]], timeout_s: float, what: str) -> T:
    """Await ``fn()`` for at most ``timeout_s``; a TimeoutError names ``what`` (retryable)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await fn()
    except TimeoutError as err:
        raise TimeoutError(f"{what} did not finish within {timeout_s:g} s") from err


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how late a failed delivery is tried again."""

    max_attempts: int = 5
    base_s: float = 1.0
    max_s: float = 300.0
    jitter: bool = True
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_s <= 0 or self.max_s < self.base_s:
            raise ValueError("need max_attempts >= 1 and 0 < base_s <= max_s")

    @classmethod
    def from_settings(
        cls, settings: WebhookSettings, max_attempts: int | None = None
    ) -> RetryPolicy:
        """The policy of ``DCODER_WEBHOOKS_*``; ``max_attempts`` overrides it (per plugin)."""
        return cls(
            max_attempts=max_attempts or settings.max_attempts,
            base_s=settings.backoff_base_s,
            max_s=settings.backoff_max_s,
        )

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based): uniform in [0, cap]."""
        if attempt < 1:
            raise ValueError("attempt is 1-based")
        cap = min(self.max_s, self.base_s * 2.0 ** min(attempt - 1, 64))
        return self.rng.uniform(0.0, cap) if self.jitter else cap

    @staticmethod
    def classify(exc: BaseException) -> Decision:
        """The error's own decision, regardless of attempts (see module ``classify``)."""
        return classify(exc)

    def decide(self, exc: BaseException, attempt: int) -> Decision:
        """``retry`` when the error is retryable and attempt ``attempt`` was not the last."""
        return "dead" if attempt >= self.max_attempts else classify(exc)


class BreakerCall:
    """One call through a breaker; ``fail()`` marks a failure that raised nothing (e.g. a 503)."""

    def __init__(self) -> None:
        self.error: str | None = None

    def fail(self, reason: str) -> None:
        self.error = reason


def _counts_against_endpoint(exc: BaseException) -> bool:
    # A permanent error (404, bad input) means the endpoint answered: it is healthy.
    return classify(exc) == "retry"


class CircuitBreaker:
    """Closed → open after repeated failures → half-open after the cool-down → closed on success."""

    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        half_open_max_calls: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: StateListener | None = None,
        counts: Callable[[BaseException], bool] = _counts_against_endpoint,
    ) -> None:
        if failure_threshold < 1 or cooldown_s <= 0 or half_open_max_calls < 1:
            raise ValueError(
                "need failure_threshold >= 1, cooldown_s > 0, half_open_max_calls >= 1"
            )
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self.half_open_max_calls = half_open_max_calls
        self._clock = clock
        self._on_change = on_change
        self._counts = counts
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probes = 0
        self._times_opened = 0
        self._last_error: str | None = None

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker turns half-open once its cool-down is over)."""
        if self._state == "open" and self._clock() - self._opened_at >= self.cooldown_s:
            self._set("half_open")
        return self._state

    def _set(self, state: BreakerState) -> None:
        if state != self._state:
            self._state = state
            if state == "open":
                self._opened_at = self._clock()
                self._times_opened += 1
            if self._on_change is not None:
                self._on_change(self.name, state)

    def _retry_in(self) -> float:
        return max(0.0, self.cooldown_s - (self._clock() - self._opened_at))

    def _acquire(self) -> bool:
        state = self.state
        if state == "open":
            raise CircuitOpen(self.name, self._retry_in())
        if state == "half_open":
            if self._probes >= self.half_open_max_calls:
                raise CircuitOpen(self.name, 1.0)  # trial calls in flight; ask again shortly
            self._probes += 1
            return True
        return False

    def _finish(self, probe: bool, error: str | None) -> None:
        if probe:
            self._probes -= 1
        if error is None:
            if self._state != "open":  # a late success of a call started before opening
                self._failures = 0
                self._set("closed")
            return
        self._last_error = error
        if self._state == "half_open" and probe:
            self._set("open")
        elif self._state == "closed":
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._set("open")

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[BreakerCall]:
        """Run one call; raises CircuitOpen while open. Cancellation counts neither way."""
        probe = self._acquire()
        call = BreakerCall()
        try:
            yield call
        except Exception as err:
            self._finish(probe, describe_error(err, 200) if self._counts(err) else None)
            raise
        except BaseException:
            if probe:
                self._probes -= 1
            raise
        self._finish(probe, call.error)

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """``await fn()`` through the breaker."""
        async with self.guard():
            result = await fn()
        return result

    def snapshot(self) -> dict[str, Any]:
        """State for the instance health: state, failures, last error, seconds until a trial."""
        state = self.state
        return {
            "endpoint": self.name,
            "state": state,
            "consecutive_failures": self._failures,
            "times_opened": self._times_opened,
            "retry_in_s": round(self._retry_in(), 3) if state == "open" else 0.0,
            "last_error": self._last_error,
        }


@dataclass(frozen=True)
class BreakerConfig:
    """Thresholds shared by the breakers of one registry."""

    failure_threshold: int = 5
    cooldown_s: float = 30.0
    half_open_max_calls: int = 1

    @classmethod
    def from_settings(cls, settings: WebhookSettings) -> BreakerConfig:
        return cls(settings.breaker_failures, settings.breaker_cooldown_s)


class BreakerRegistry:
    """One breaker per endpoint, at most ``max_endpoints`` (closed ones evicted first, LRU)."""

    def __init__(
        self,
        config: BreakerConfig | None = None,
        max_endpoints: int = 256,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: StateListener | None = None,
    ) -> None:
        self.config = config or BreakerConfig()
        self.max_endpoints = max_endpoints
        self._clock = clock
        self._on_change = on_change
        self._breakers: OrderedDict[str, CircuitBreaker] = OrderedDict()

    def get(self, endpoint: str) -> CircuitBreaker:
        """The breaker of ``endpoint``, created closed on first use."""
        breaker = self._breakers.get(endpoint)
        if breaker is None:
            breaker = CircuitBreaker(
                endpoint, self.config.failure_threshold, self.config.cooldown_s,
                self.config.half_open_max_calls, clock=self._clock, on_change=self._on_change,
            )  # fmt: skip
            self._breakers[endpoint] = breaker
            self._evict()
        self._breakers.move_to_end(endpoint)
        return breaker

    def _evict(self) -> None:
        while len(self._breakers) > self.max_endpoints:
            # Forgetting an open breaker would let calls through again: drop closed ones first.
            victim = next(
                (name for name, b in self._breakers.items() if b.state == "closed"),
                next(iter(self._breakers)),
            )
            del self._breakers[victim]

    def snapshot(self, scope: str | None = None) -> dict[str, dict[str, Any]]:
        """Tracked breakers' snapshots; with ``scope``, only that scope's, keyed by endpoint."""
        if scope is None:
            return {name: breaker.snapshot() for name, breaker in self._breakers.items()}
        prefix = scope + " "
        return {
            name.removeprefix(prefix): breaker.snapshot()
            for name, breaker in self._breakers.items()
            if name.startswith(prefix)
        }

    def __len__(self) -> int:
        return len(self._breakers)


def endpoint_of(url: httpx.URL) -> str:
    """The breaker key of a URL: ``scheme://host[:port]`` (one Jira site, one Bitbucket host)."""
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


class BreakerTransport(httpx.AsyncBaseTransport):
    """Wraps a transport: per-endpoint breaker and a timeout around every request.

    With a ``scope`` (``"<tenant>/<instance>"``) the breakers are keyed ``"<scope> <endpoint>"``:
    one tenant's failing calls never open another tenant's breaker for the same endpoint.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        registry: BreakerRegistry,
        timeout_s: float,
        *,
        scope: str = "",
        owns_inner: bool = True,
    ) -> None:
        self.inner = inner
        self.registry = registry
        self.timeout_s = timeout_s
        self.scope = scope
        self.owns_inner = owns_inner

    def scoped(self, scope: str) -> BreakerTransport:
        """The same pool and registry with breakers of their own for ``scope``; closing it
        leaves the shared pool open (the unscoped owner closes it)."""
        return BreakerTransport(
            self.inner, self.registry, self.timeout_s, scope=scope, owns_inner=False
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = endpoint_of(request.url)
        key = f"{self.scope} {endpoint}" if self.scope else endpoint
        async with self.registry.get(key).guard() as call:
            try:
                async with asyncio.timeout(self.timeout_s):
                    response = await self.inner.handle_async_request(request)
            except TimeoutError as err:
                raise httpx.TimeoutException(
                    f"{request.method} {endpoint} gave no response within {self.timeout_s:g} s",
                    request=request,
                ) from err
            if is_failure_status(response.status_code):
                call.fail(f"HTTP {response.status_code}")
        return response

    async def aclose(self) -> None:
        if self.owns_inner:
            await self.inner.aclose()


def breaker_transport(
    inner: httpx.AsyncBaseTransport, registry: BreakerRegistry, timeout_s: float
) -> BreakerTransport:
    """``inner`` behind per-endpoint breakers and a timeout, for ``httpx.AsyncClient(transport=)``.

    Build the client with ``trust_env=False``: an environment proxy would mount its own transport.
    """
    return BreakerTransport(inner, registry, timeout_s)
