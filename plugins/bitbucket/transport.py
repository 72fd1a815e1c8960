"""HTTP to one Bitbucket server with bounded retries and typed errors (Cloud and Data Center).

The caller passes an ``httpx.AsyncClient`` carrying the platform's auth and egress guard. Reads
and idempotent writes (PUT, DELETE) are retried on 429 (honouring ``Retry-After``), 5xx and
connection failures with jittered backoff. A write that is not idempotent (POST of a new comment)
is retried only when Bitbucket cannot have acted on it: a 429, or a connection that was never
established. Any other failure of such a write raises ``BitbucketUnavailable(ambiguous=True)``
and is never re-sent here. The loop is the SDK's ``plugin_sdk.http.send_with_retries``; this
module names Bitbucket's errors (``BITBUCKET``) and builds its URLs.
"""

from __future__ import annotations

from typing import Any

import httpx

from plugin_sdk.http import HttpProduct, RetryPolicy, send_with_retries
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
RetrySettings = RetryPolicy  # the name the agent's callers and tests know


BITBUCKET = HttpProduct(
    name="Bitbucket",
    by_status={
        401: BitbucketAuthFailed,
        403: BitbucketForbidden,
        404: BitbucketNotFound,
        409: BitbucketConflict,
    },
    bad_request=BitbucketBadRequest,
    rate_limited=BitbucketRateLimited,
    unavailable=lambda detail, ambiguous: BitbucketUnavailable(detail, ambiguous=ambiguous),
)


class Transport:
    """Requests to one server (``base_url`` + path), retried within bounds."""

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, retry: RetryPolicy | None = None
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()

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
        url = self.url(path)
        return await send_with_retries(
            BITBUCKET,
            lambda: self._http.request(method, url, follow_redirects=True, **kwargs),
            method,
            path,
            policy=self.retry,
            idempotent=idempotent,
        )

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a request (``None`` for an empty one)."""
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None
