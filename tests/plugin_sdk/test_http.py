"""``send_with_retries`` against the real simulator over HTTP, its faults injected per test
(429 with Retry-After, 5xx, dropped connections, expired tokens) and a port nobody listens on."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from plugin_sdk.errors import PermanentError, PluginAuthFailed, RemoteRateLimited, RetryableError
from plugin_sdk.http import HttpProduct, RetryPolicy, response_messages, send_with_retries
from tests.plugin_sdk.conftest import SimServer

FAST = RetryPolicy(max_attempts=3, backoff_s=0.01, max_backoff_s=0.05, max_retry_after_s=2)
READ = "/jira/rest/api/3/serverInfo"
WRITE = "/jira/rest/api/3/search/jql"  # a POST that answers 200: stands in for a write here


class NotFound(PermanentError):
    code = "acme-not-found"


def refused(detail: str, messages: list[str], status: int) -> PermanentError:
    return PermanentError(detail, messages=messages, acme_status=status)


def unavailable(detail: str, ambiguous: bool) -> RetryableError:
    return RetryableError(detail, ambiguous=ambiguous)


# the SDK's families serve as they are; a plugin's own subclasses name the product in ``code``
ACME = HttpProduct(
    name="Acme",
    by_status={401: PluginAuthFailed, 404: NotFound},
    bad_request=refused,
    rate_limited=RemoteRateLimited,
    unavailable=unavailable,
    unacted_statuses=frozenset({503}),
)


class Site:
    """Requests to the simulator as the demo user; counts the attempts ``send`` makes."""

    def __init__(self, sim: SimServer, http: httpx.AsyncClient) -> None:
        self.sim = sim
        self.http = http
        self.attempts = 0

    def sender(
        self, method: str, url: str, **kwargs: Any
    ) -> Callable[[], Awaitable[httpx.Response]]:
        async def send() -> httpx.Response:
            self.attempts += 1
            return await self.http.request(method, url, **kwargs)

        return send

    async def send(
        self, method: str, path: str, *, idempotent: bool, **kwargs: Any
    ) -> httpx.Response:
        self.attempts = 0
        send = self.sender(method, self.sim.url + path, **kwargs)
        return await send_with_retries(ACME, send, method, path, policy=FAST, idempotent=idempotent)

    async def fault(self, **rule: Any) -> str:
        answer = await self.http.post(self.sim.url + "/_sim/faults", json=rule)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


@pytest.fixture
async def site(sim: SimServer) -> AsyncIterator[Site]:
    auth = (sim.config.user_email, sim.config.api_token)
    async with httpx.AsyncClient(auth=auth, timeout=10) as http:
        try:
            yield Site(sim, http)
        finally:
            await http.delete(sim.url + "/_sim/faults")


async def test_429_then_5xx_then_the_answer(site: Site) -> None:
    await site.fault(path_prefix=READ, kind="rate_limit", retry_after_s=0, count=1)
    await site.fault(path_prefix=READ, kind="server_error", status=502, count=1)
    response = await site.send("GET", READ, idempotent=True)
    assert response.status_code == 200 and response.json()["deploymentType"] == "Cloud"
    assert site.attempts == 3


async def test_dropped_connection_retried_for_a_read(site: Site) -> None:
    await site.fault(path_prefix=READ, kind="drop", count=1)
    assert (await site.send("GET", READ, idempotent=True)).status_code == 200
    assert site.attempts == 2


async def test_server_errors_exhaust_the_attempts_then_unavailable(site: Site) -> None:
    await site.fault(path_prefix=READ, kind="server_error", status=500, count=None)
    with pytest.raises(RetryableError) as down:
        await site.send("GET", READ, idempotent=True)
    assert type(down.value) is RetryableError, down.value  # unavailable(), not rate-limited
    assert str(down.value) == f"Acme answered 500 to GET {READ}"
    assert down.value.extra == {"ambiguous": False} and site.attempts == FAST.max_attempts


async def test_rate_limits_exhaust_the_attempts_then_rate_limited(site: Site) -> None:
    await site.fault(path_prefix=READ, kind="rate_limit", retry_after_s=0, count=None)
    with pytest.raises(RemoteRateLimited) as limited:
        await site.send("GET", READ, idempotent=True)
    assert str(limited.value) == f"Acme rate-limited GET {READ}"
    assert limited.value.retry_after_s == 0 and limited.value.problem()["retry_after"] == 1
    assert site.attempts == FAST.max_attempts


async def test_a_retry_after_longer_than_the_policy_waits_is_raised_at_once(site: Site) -> None:
    await site.fault(path_prefix=READ, kind="rate_limit", retry_after_s=60, count=1)
    with pytest.raises(RemoteRateLimited) as limited:
        await site.send("GET", READ, idempotent=True)
    assert limited.value.retry_after_s == 60 and site.attempts == 1  # the delivery's to wait


async def test_a_write_is_retried_only_when_the_server_cannot_have_acted(site: Site) -> None:
    body = {"jql": "", "maxResults": 1}
    await site.fault(path_prefix=WRITE, kind="server_error", status=502, count=1)
    with pytest.raises(RetryableError) as ambiguous:  # Acme may have acted: never sent twice
        await site.send("POST", WRITE, idempotent=False, json=body)
    assert ambiguous.value.extra == {"ambiguous": True} and site.attempts == 1
    await site.fault(path_prefix=WRITE, kind="drop", count=1)
    with pytest.raises(RetryableError) as dropped:
        await site.send("POST", WRITE, idempotent=False, json=body)
    assert dropped.value.extra == {"ambiguous": True} and site.attempts == 1
    assert str(dropped.value).startswith(f"POST {WRITE}: ")  # the transport error's name
    # a 429 and the product's unacted 503 mean it did not act: retried, answered
    await site.fault(path_prefix=WRITE, kind="rate_limit", retry_after_s=0, count=1)
    await site.fault(path_prefix=WRITE, kind="server_error", status=503, count=1)
    assert (await site.send("POST", WRITE, idempotent=False, json=body)).status_code == 200
    assert site.attempts == 3


async def test_a_connection_never_made_is_retried_even_for_a_write(site: Site) -> None:
    with socket.socket() as closed:  # a port that was free a moment ago: nobody listens
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    send = site.sender("POST", f"http://127.0.0.1:{port}/x", json={})
    with pytest.raises(RetryableError) as down:
        await send_with_retries(ACME, send, "POST", "/x", policy=FAST, idempotent=False)
    assert str(down.value) == "POST /x: ConnectError" and down.value.extra == {"ambiguous": False}
    assert site.attempts == FAST.max_attempts
    assert isinstance(down.value.__cause__, httpx.ConnectError)


async def test_refusals_become_the_products_errors_without_retries(site: Site) -> None:
    with pytest.raises(NotFound) as missing:
        await site.send("GET", "/jira/rest/api/3/issue/NOPE-1", idempotent=True)
    assert str(missing.value).startswith("Acme answered 404 to GET /jira/rest/api/3/issue/NOPE-1")
    assert site.attempts == 1
    await site.fault(path_prefix=READ, kind="expired_token", count=1)
    with pytest.raises(PluginAuthFailed):
        await site.send("GET", READ, idempotent=True)
    with pytest.raises(PermanentError) as bad:
        await site.send("POST", WRITE, idempotent=False, json={"jql": "project = "})
    messages = bad.value.extra["messages"]
    assert bad.value.extra["acme_status"] == 400 and messages and site.attempts == 1
    assert str(bad.value) == f"Acme answered 400 to POST {WRITE}: " + "; ".join(messages)


def test_response_messages_in_every_atlassian_shape() -> None:
    def said(status: int, **kwargs: Any) -> list[str]:
        return response_messages(httpx.Response(status, **kwargs))

    jira = {"errorMessages": ["No project"], "errors": {"summary": "required"}}
    assert said(400, json=jira) == ["No project", "summary: required"]
    cloud = {"type": "error", "error": {"message": "Bad request", "detail": "no such branch"}}
    assert said(400, json=cloud) == ["Bad request", "no such branch"]
    dc = {"errors": [{"context": None, "message": "Out of date", "exceptionName": "X"}]}
    assert said(409, json=dc) == ["Out of date"]
    assert said(502, text="<html>Bad gateway</html>") == ["<html>Bad gateway</html>"]
    assert said(500, json=["not", "an", "object"]) == [] and said(500) == []


def test_policy_bounds_and_jittered_backoff() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="backoff"):
        RetryPolicy(backoff_s=10, max_backoff_s=1)
    policy = RetryPolicy(backoff_s=0.5, max_backoff_s=8)
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (9, 8.0)]:
        assert all(cap / 2 <= policy.backoff(attempt) <= cap for _ in range(50)), attempt
