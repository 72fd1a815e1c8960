"""HTTP to one Bitbucket server with bounded retries and typed errors (Cloud and Data Center).

The caller passes an ``httpx.AsyncClient`` carrying the platform's auth and egress guard. Reads
and idempotent writes (PUT, DELETE) are retried on 429 (honouring ``Retry-After``), 5xx and
connection failures with jittered backoff. A write that is not idempotent (POST of a new comment)
is retried only when Bitbucket cannot have acted on it: a 429, or a connection that was never
established. Any other failure of such a write raises ``BitbucketUnavailable(ambiguous=True)``
and is never re-sent here.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import httpx

from plugin_sdk.http import retry_after_s
from plugins.bitbucket.errors import (
    BitbucketAuthFailed,
    BitbucketBadRequest,
    BitbucketConflict,
    BitbucketForbidden,
    BitbucketNotFound,
    BitbucketRateLimited,
    BitbucketUnavailable,
)

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetrySettings:
    """How hard the client tries before it raises (the delivery's own retries come on top)."""

    max_attempts: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 30.0  # a longer Retry-After is the delivery's to wait, not ours


def messages_of(response: httpx.Response) -> list[str]:
    """Bitbucket's own error words: Cloud ``error.message/detail``, DC ``errors[].message``."""
    try:
        body = response.json()
    except ValueError:
        return [response.text[:200]] if response.text else []
    if not isinstance(body, dict):
        return []
    error = body.get("error")
    if isinstance(error, dict):
        return [str(error[k]) for k in ("message", "detail") if error.get(k)]
    found = [e.get("message") for e in body.get("errors") or [] if isinstance(e, dict)]
    found += [str(m) for m in body.get("errorMessages") or []]
    return [str(m) for m in found if m]


def refused(method: str, path: str, response: httpx.Response) -> Exception:
    """The typed error of a 4xx answer."""
    status = response.status_code
    messages = messages_of(response)
    detail = f"Bitbucket answered {status} to {method} {path}" + (
        ": " + "; ".join(messages) if messages else ""
    )
    if status == 401:
        return BitbucketAuthFailed(detail)
    if status == 403:
        return BitbucketForbidden(detail)
    if status == 404:
        return BitbucketNotFound(detail)
    if status == 409:
        return BitbucketConflict(detail)
    return BitbucketBadRequest(detail, messages, status)


class Transport:
    """Requests to one server (``base_url`` + path), retried within bounds."""

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, retry: RetrySettings | None = None
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetrySettings()
        self._rng = random.Random()

    def _backoff(self, attempt: int) -> float:
        cap = min(self.retry.max_backoff_s, self.retry.backoff_s * 2 ** (attempt - 1))
        return self._rng.uniform(cap / 2, cap)

    def url(self, path: str) -> str:
        """An absolute URL on this server (absolute ``next`` links pass through, same host only)."""
        if path.startswith(("http://", "https://")):
            if httpx.URL(path).host != httpx.URL(self.base_url).host:
                raise BitbucketBadRequest(
                    f"refusing to follow a link off the server: {path}", [], 0
                )
            return path
        return self.base_url + path

    async def request(
        self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """A 2xx (or redirect-followed) response, or a typed error.

        ``idempotent`` overrides the method's default for POSTs that are upserts (annotations
        keyed by their external id) or state changes (resolving a thread).
        """
        idempotent = method.upper() in IDEMPOTENT if idempotent is None else idempotent
        for attempt in range(1, self.retry.max_attempts + 1):
            last = attempt == self.retry.max_attempts
            try:
                response = await self._http.request(
                    method, self.url(path), follow_redirects=True, **kwargs
                )
            except httpx.TransportError as err:
                unsent = isinstance(err, httpx.ConnectError | httpx.ConnectTimeout)
                if last or not (idempotent or unsent):
                    raise BitbucketUnavailable(
                        f"{method} {path}: {type(err).__name__}",
                        ambiguous=not (idempotent or unsent),
                    ) from err
                await asyncio.sleep(self._backoff(attempt))
                continue
            status = response.status_code
            if status == 429:
                wait = retry_after_s(response)
                wait = self._backoff(attempt) if wait is None else wait
                if last or wait > self.retry.max_retry_after_s:
                    raise BitbucketRateLimited(f"Bitbucket rate-limited {method} {path}", wait)
                await asyncio.sleep(wait)
                continue
            if status >= 500:
                if last or not idempotent:
                    raise BitbucketUnavailable(
                        f"Bitbucket answered {status} to {method} {path}", ambiguous=not idempotent
                    )
                await asyncio.sleep(retry_after_s(response) or self._backoff(attempt))
                continue
            if status >= 400:
                raise refused(method, path, response)
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a request (``None`` for an empty one)."""
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None
