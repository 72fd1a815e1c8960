"""Retry decisions, backoff, circuit breakers, and the breaker transport against real sockets."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator

import httpx
import pydantic
import pytest

from core.errors import (
    BusError,
    CircuitOpen,
    DependencyUnavailable,
    NotFound,
    PermanentError,
    PluginAuthFailed,
    PluginConfigInvalid,
    PluginNotReady,
    RateLimited,
    RetryableError,
    ValidationFailed,
)
from core.resilience import (
    BreakerConfig,
    BreakerRegistry,
    CircuitBreaker,
    RetryPolicy,
    breaker_transport,
    call_with_timeout,
    classify,
    describe_error,
)
from core.settings import WebhookSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _status_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://acme.atlassian.net/rest/api/2/issue/A-1")
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError(f"HTTP {status}", request=request, response=response)


def _pydantic_error() -> pydantic.ValidationError:
    try:
        pydantic.TypeAdapter(int).validate_python("x")
    except pydantic.ValidationError as err:
        return err
    raise AssertionError("unreachable")


# --- classify and RetryPolicy --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RetryableError("x"), "retry"),
        (CircuitOpen("https://a", 3), "retry"),
        (PluginNotReady("x"), "retry"),
        (DependencyUnavailable("x"), "retry"),
        (BusError("x"), "retry"),
        (RateLimited("x", 2), "retry"),
        (TimeoutError(), "retry"),
        (httpx.ConnectError("refused"), "retry"),
        (httpx.ReadTimeout("slow"), "retry"),
        (_status_error(503), "retry"),
        (_status_error(429), "retry"),
        (_status_error(400), "dead"),
        (_status_error(404), "dead"),
        (PermanentError("x"), "dead"),
        (PluginConfigInvalid("x"), "dead"),
        (PluginAuthFailed("x"), "dead"),
        (ValidationFailed("x"), "dead"),
        (_pydantic_error(), "dead"),
        (KeyError("surprise"), "retry"),
        (NotFound("x"), "dead"),  # every client error but RateLimited
    ],
)
def test_classify(exc: BaseException, expected: str) -> None:
    assert classify(exc) == expected
    assert RetryPolicy.classify(exc) == expected


def test_delay_is_full_jitter_exponential_and_deterministic_with_a_seed() -> None:
    policy = RetryPolicy(max_attempts=8, base_s=1, max_s=30, rng=random.Random(7))
    again = RetryPolicy(max_attempts=8, base_s=1, max_s=30, rng=random.Random(7))
    delays = [policy.delay(n) for n in range(1, 9)]
    assert delays == [again.delay(n) for n in range(1, 9)]
    caps = [1, 2, 4, 8, 16, 30, 30, 30]
    assert all(0 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    plain = RetryPolicy(base_s=1, max_s=30, jitter=False)
    assert [plain.delay(n) for n in range(1, 9)] == caps
    assert plain.delay(10_000) == 30  # no overflow on absurd attempt numbers
    samples = [policy.delay(5) for _ in range(2000)]
    assert 6 < sum(samples) / len(samples) < 10  # uniform on [0, 16] averages 8
    with pytest.raises(ValueError, match="1-based"):
        policy.delay(0)


def test_decide_bounds_retries_by_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.decide(TimeoutError(), 1) == "retry"
    assert policy.decide(TimeoutError(), 2) == "retry"
    assert policy.decide(TimeoutError(), 3) == "dead"
    assert policy.decide(PermanentError("bad"), 1) == "dead"


def test_policy_from_settings_with_a_per_plugin_maximum() -> None:
    settings = WebhookSettings(max_attempts=4, backoff_base_s=2, backoff_max_s=60)
    assert RetryPolicy.from_settings(settings).max_attempts == 4
    policy = RetryPolicy.from_settings(settings, max_attempts=9)
    assert (policy.max_attempts, policy.base_s, policy.max_s) == (9, 2, 60)
    with pytest.raises(ValueError):
        RetryPolicy(base_s=10, max_s=1)


async def test_call_with_timeout_names_what_timed_out() -> None:
    async def slow() -> int:
        await asyncio.sleep(5)
        return 1

    async def fast() -> int:
        return 2

    with pytest.raises(TimeoutError, match="handler jira-1 did not finish within 0.05 s"):
        await call_with_timeout(slow, 0.05, "handler jira-1")
    assert await call_with_timeout(fast, 1, "x") == 2


def test_describe_error_truncates() -> None:
    assert describe_error(ValueError("boom")) == "ValueError: boom"
    assert describe_error(TimeoutError()) == "TimeoutError"
    assert len(describe_error(ValueError("x" * 1000), 50)) == 50


# --- CircuitBreaker ------------------------------------------------------------------------------
async def _fail() -> None:
    raise httpx.ConnectError("refused")


async def _ok() -> str:
    return "ok"


def _breaker(clock: Clock, events: list[tuple[str, str]] | None = None) -> CircuitBreaker:
    def listener(name: str, state: str) -> None:
        if events is not None:
            events.append((name, state))

    return CircuitBreaker(
        "https://acme.atlassian.net", failure_threshold=3, cooldown_s=10,
        half_open_max_calls=1, clock=clock, on_change=listener,
    )  # fmt: skip


async def test_breaker_opens_after_consecutive_failures_and_fails_fast() -> None:
    clock, events = Clock(), list[tuple[str, str]]()
    breaker = _breaker(clock, events)
    for _ in range(2):
        with pytest.raises(httpx.ConnectError):
            await breaker.call(_fail)
    assert await breaker.call(_ok) == "ok"  # a success resets the count
    for _ in range(3):
        with pytest.raises(httpx.ConnectError):
            await breaker.call(_fail)
    assert breaker.state == "open"
    clock.now += 4
    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        return "ok"

    with pytest.raises(CircuitOpen) as caught:
        await breaker.call(counted)
    assert calls == 0
    assert caught.value.retry_after_s == pytest.approx(6)
    assert caught.value.problem()["retry_after"] == 6 and caught.value.status == 503
    assert classify(caught.value) == "retry"
    assert events == [("https://acme.atlassian.net", "open")]


async def test_half_open_limits_trials_then_closes_on_success() -> None:
    clock, events = Clock(), list[tuple[str, str]]()
    breaker = _breaker(clock, events)
    for _ in range(3):
        with pytest.raises(httpx.ConnectError):
            await breaker.call(_fail)
    clock.now += 10
    assert breaker.state == "half_open"
    release = asyncio.Event()

    async def slow_probe() -> str:
        await release.wait()
        return "ok"

    probe = asyncio.create_task(breaker.call(slow_probe))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen):
        await breaker.call(_ok)  # only one trial call at a time
    release.set()
    assert await probe == "ok"
    assert breaker.state == "closed"
    assert [state for _, state in events] == ["open", "half_open", "closed"]
    assert breaker.snapshot()["consecutive_failures"] == 0


async def test_failed_trial_reopens_for_a_full_cooldown() -> None:
    clock = Clock()
    breaker = _breaker(clock)
    for _ in range(3):
        with pytest.raises(httpx.ConnectError):
            await breaker.call(_fail)
    clock.now += 10
    with pytest.raises(httpx.ConnectError):
        await breaker.call(_fail)
    assert breaker.state == "open"
    clock.now += 9.5
    with pytest.raises(CircuitOpen):
        await breaker.call(_ok)
    clock.now += 0.5
    assert await breaker.call(_ok) == "ok"
    snap = breaker.snapshot()
    assert snap["state"] == "closed" and snap["times_opened"] == 2
    assert snap["last_error"] == "ConnectError: refused"


async def test_permanent_errors_and_cancellation_do_not_count() -> None:
    clock = Clock()
    breaker = _breaker(clock)

    async def not_found() -> None:
        raise PermanentError("issue A-1 does not exist")

    for _ in range(10):
        with pytest.raises(PermanentError):
            await breaker.call(not_found)
    assert breaker.state == "closed"

    async def forever() -> None:
        await asyncio.sleep(60)

    for _ in range(5):
        task = asyncio.create_task(breaker.call(forever))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert breaker.snapshot()["consecutive_failures"] == 0


async def test_guard_records_failures_that_raise_nothing() -> None:
    breaker = _breaker(Clock())
    for _ in range(3):
        async with breaker.guard() as call:
            call.fail("HTTP 503")
    snap = breaker.snapshot()
    assert snap["state"] == "open" and snap["last_error"] == "HTTP 503"
    assert snap["retry_in_s"] == 10


def test_registry_is_bounded_and_keeps_open_breakers() -> None:
    clock = Clock()
    registry = BreakerRegistry(BreakerConfig(failure_threshold=1), max_endpoints=3, clock=clock)
    registry.get("https://down")._finish(False, "HTTP 500")
    assert registry.get("https://down").state == "open"
    for i in range(10):
        registry.get(f"https://site{i}")
    assert len(registry) == 3
    assert "https://down" in registry.snapshot()
    assert registry.get("https://down").state == "open"
    config = BreakerConfig.from_settings(WebhookSettings(breaker_failures=7, breaker_cooldown_s=3))
    assert (config.failure_threshold, config.cooldown_s) == (7, 3)


# --- breaker_transport against real sockets ------------------------------------------------------
class Server:
    """A tiny HTTP/1.1 server on a free port: answers ``status`` or hangs when ``hang``."""

    def __init__(self) -> None:
        self.status = 200
        self.hang = False
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                self.requests += 1
                if self.hang:
                    await asyncio.sleep(30)
                body = b"{}"
                writer.write(
                    f"HTTP/1.1 {self.status} X\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture
async def servers() -> AsyncIterator[tuple[Server, str, Server, str]]:
    a, b = Server(), Server()
    url_a, url_b = await a.start(), await b.start()
    yield a, url_a, b, url_b
    await a.stop()
    await b.stop()


def _client(registry: BreakerRegistry, timeout_s: float = 2.0) -> httpx.AsyncClient:
    inner = httpx.AsyncHTTPTransport(retries=0)
    return httpx.AsyncClient(
        transport=breaker_transport(inner, registry, timeout_s), trust_env=False
    )


async def test_transport_opens_the_breaker_of_a_failing_endpoint_only(
    servers: tuple[Server, str, Server, str],
) -> None:
    a, url_a, b, url_b = servers
    clock = Clock()
    registry = BreakerRegistry(BreakerConfig(failure_threshold=3, cooldown_s=5), clock=clock)
    async with _client(registry) as client:
        a.status = 404  # the endpoint answered: not a failure
        for _ in range(5):
            assert (await client.get(f"{url_a}/x")).status_code == 404
        a.status = 503
        for _ in range(3):
            assert (await client.get(f"{url_a}/x")).status_code == 503
        with pytest.raises(CircuitOpen):
            await client.get(f"{url_a}/x")
        assert a.requests == 8  # the fast failure never reached the server
        assert (await client.get(f"{url_b}/y")).status_code == 200  # other endpoint unaffected
        a.status = 200
        clock.now += 5
        assert (await client.get(f"{url_a}/x")).status_code == 200
    snap = registry.snapshot()
    assert snap[url_a]["state"] == "closed" and snap[url_a]["times_opened"] == 1
    assert snap[url_b]["state"] == "closed"


async def test_transport_times_out_and_counts_timeouts_and_refusals(
    servers: tuple[Server, str, Server, str],
) -> None:
    a, url_a, _, _ = servers
    a.hang = True
    registry = BreakerRegistry(BreakerConfig(failure_threshold=2))
    async with _client(registry, timeout_s=0.2) as client:
        with pytest.raises(httpx.TimeoutException, match="no response within 0.2 s"):
            await client.get(f"{url_a}/slow")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed_port = sock.getsockname()[1]
        refused = f"http://127.0.0.1:{closed_port}"
        for _ in range(2):
            with pytest.raises(httpx.ConnectError):
                await client.get(refused)
        with pytest.raises(CircuitOpen):
            await client.get(refused)
    assert registry.snapshot()[url_a]["consecutive_failures"] == 1
    assert registry.snapshot()[refused]["state"] == "open"


async def test_one_tenants_failures_do_not_open_another_tenants_breaker(
    servers: tuple[Server, str, Server, str],
) -> None:
    """Isolation: breakers are keyed by tenant + instance + endpoint (was: endpoint only)."""
    a, url_a, _b, _url_b = servers
    registry = BreakerRegistry(BreakerConfig(failure_threshold=3, cooldown_s=60), clock=Clock())
    shared = breaker_transport(httpx.AsyncHTTPTransport(retries=0), registry, 2.0)
    one = httpx.AsyncClient(transport=shared.scoped("t1/i1"), trust_env=False)
    two = httpx.AsyncClient(transport=shared.scoped("t2/i2"), trust_env=False)
    a.status = 429
    for _ in range(3):
        assert (await one.get(f"{url_a}/x")).status_code == 429
    with pytest.raises(CircuitOpen):
        await one.get(f"{url_a}/x")
    a.status = 200
    assert (await two.get(f"{url_a}/x")).status_code == 200  # same endpoint, other tenant
    await one.aclose()  # a scoped client leaves the shared pool open
    assert (await two.get(f"{url_a}/x")).status_code == 200
    assert registry.snapshot("t1/i1")[url_a]["state"] == "open"
    assert registry.snapshot("t2/i2") == {url_a: registry.snapshot("t2/i2")[url_a]}
    assert registry.snapshot("t2/i2")[url_a]["state"] == "closed"
    assert "t1/i1" not in str(registry.snapshot("t2/i2"))
    await two.aclose()
    await shared.aclose()
