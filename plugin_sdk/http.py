"""HTTP helpers every agent's client needs: ``Retry-After`` and one bounded retry loop.

``send_with_retries`` is the loop the Jira and Bitbucket clients share (and a third-party plugin
can use): a request is retried on 429 (honouring ``Retry-After``), 5xx and transport errors with
jittered exponential backoff, up to ``RetryPolicy.max_attempts``; what it raises then, and for a
refusal (401, 403, 404, other 4xx), is the product's own typed errors, named by an ``HttpProduct``.

A request that is not idempotent (a POST creating a comment) is retried only when the server
cannot have acted on it: a 429, a connection that was never established, or one of the product's
``unacted_statuses`` (Jira: 503). Any other failure of such a request raises ``unavailable`` with
``ambiguous=True`` at once: the write may have been applied and is never re-sent here.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx


def retry_after_s(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a client tries before it raises (the delivery's own retries come on top)."""

    max_attempts: int = 4  # attempts in all, the first one included
    backoff_s: float = 0.5  # the cap of the first wait; it doubles per attempt ...
    max_backoff_s: float = 8.0  # ... up to this; each wait is uniform in [cap / 2, cap]
    max_retry_after_s: float = 30.0  # a longer Retry-After is the delivery's to wait, not ours

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if not 0 <= self.backoff_s <= self.max_backoff_s:
            raise ValueError("backoff bounds must satisfy 0 <= backoff_s <= max_backoff_s")

    def backoff(self, attempt: int) -> float:
        """The jittered wait after failed attempt ``attempt`` (1-based), in seconds."""
        cap = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap)  # noqa: S311 - jitter, not a secret


def response_messages(response: httpx.Response) -> list[str]:
    """A server's own error words, in the shapes Atlassian products answer with.

    Bitbucket Cloud ``{"error": {"message", "detail"}}``; Bitbucket Data Center ``{"errors":
    [{"message"}]}``; Jira ``{"errorMessages": [...], "errors": {"field": "why"}}``; else the
    start of a body that is not JSON.
    """
    try:
        body = response.json()
    except ValueError:
        return [response.text[:200]] if response.text else []
    if not isinstance(body, dict):
        return []
    error = body.get("error")
    if isinstance(error, dict):
        return [str(error[k]) for k in ("message", "detail") if error.get(k)]
    errors = body.get("errors")
    found = (
        [e.get("message") for e in errors if isinstance(e, dict)]
        if isinstance(errors, list)
        else []
    )
    found += list(body.get("errorMessages") or [])
    words = [str(m) for m in found if m]
    if isinstance(errors, dict):
        words += [f"{k}: {v}" for k, v in errors.items()]
    return words


@dataclass(frozen=True)
class HttpProduct:
    """The product-specific half of ``send_with_retries``: its name and its typed errors.

    Every factory gets a ready ``detail`` ("Jira answered 404 to GET /rest/api/3/issue/X: ...").
    """

    name: str  # "Jira": the first word of every detail
    by_status: Mapping[int, Callable[[str], Exception]]  # 401 → auth failed, 403, 404, 409, ...
    bad_request: Callable[[str, list[str], int], Exception]  # any other 4xx: detail, words, status
    rate_limited: Callable[[str, float], Exception]  # a 429 not waited out: detail, seconds
    unavailable: Callable[[str, bool], Exception]  # 5xx / no connection: detail, ambiguous
    messages: Callable[[httpx.Response], list[str]] = response_messages
    unacted_statuses: frozenset[int] = frozenset()  # 5xx after which a write may be retried

    def refused(self, method: str, path: str, response: httpx.Response) -> Exception:
        """The typed error of a 4xx answer other than 429."""
        status = response.status_code
        messages = self.messages(response)
        detail = f"{self.name} answered {status} to {method} {path}" + (
            ": " + "; ".join(messages) if messages else ""
        )
        make = self.by_status.get(status)
        return make(detail) if make else self.bad_request(detail, messages, status)


async def send_with_retries(
    product: HttpProduct,
    send: Callable[[], Awaitable[httpx.Response]],
    method: str,
    path: str,
    *,
    policy: RetryPolicy,
    idempotent: bool,
) -> httpx.Response:
    """``await send()`` until it answers below 400, within ``policy``; else a typed error.

    ``send`` makes one fresh attempt (``lambda: http.request(method, url, json=body)``);
    ``method`` and ``path`` only name the request in the errors. Exceptions other than
    ``httpx.TransportError`` (``EgressRefused``, ``CircuitOpen`` of ``ctx.http``) pass through at
    once.
    """
    for attempt in range(1, policy.max_attempts + 1):
        last = attempt == policy.max_attempts
        try:
            response = await send()
        except httpx.TransportError as err:
            unsent = isinstance(err, httpx.ConnectError | httpx.ConnectTimeout)
            if last or not (idempotent or unsent):
                detail = f"{method} {path}: {type(err).__name__}"
                raise product.unavailable(detail, not (idempotent or unsent)) from err
            await asyncio.sleep(policy.backoff(attempt))
            continue
        status = response.status_code
        if status == 429:
            wait = retry_after_s(response)
            wait = policy.backoff(attempt) if wait is None else wait
            if last or wait > policy.max_retry_after_s:
                raise product.rate_limited(f"{product.name} rate-limited {method} {path}", wait)
            await asyncio.sleep(wait)
            continue
        if status >= 500:
            safe = idempotent or status in product.unacted_statuses
            if last or not safe:
                detail = f"{product.name} answered {status} to {method} {path}"
                raise product.unavailable(detail, not safe)
            await asyncio.sleep(retry_after_s(response) or policy.backoff(attempt))
            continue
        if status >= 400:
            raise product.refused(method, path, response)
        return response
    raise AssertionError("unreachable: the last attempt returns or raises")
