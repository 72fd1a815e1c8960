"""The egress guard on the wire: every outbound request of a plugin passes through it.

Two layers, because a check of the URL alone can be outwitted by DNS:

* ``EgressTransport`` (one per instance, outermost) checks each request's URL before it is sent:
  scheme, literal addresses in every spelling (``core.egress.check_url``) and the hosts the plugin
  may reach (``HostPermissions``: the manifest's ``network:`` permissions plus the hosts of URLs in
  the instance's config). httpx follows redirects request by request, so every hop is checked.
* ``GuardedBackend`` (the shared connection pool's network backend) resolves a DNS name when a
  connection is opened, checks every address it resolves to and connects to the checked address.
  The TLS server name and the ``Host`` header keep the name (httpcore takes both from the URL), so
  certificates verify as usual, and a name that resolves to a private address at connect time
  (DNS rebinding) is refused.
* ``checked_destination`` runs the same checks for a client that is not httpx (a review job's
  ``git fetch``): URL, host permissions, resolution; the caller pins the connection to the
  checked address (``Destination.curl_resolve``) and follows no redirect.

Refusals raise ``EgressRefused`` (permanent: a delivery is not retried for it).
"""

from __future__ import annotations

import asyncio
import ssl
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from core.egress import (
    AllowList,
    EgressNotPermitted,
    EgressRefused,
    IPAddress,
    check_url,
    resolve_checked,
)

NETWORK_PERMISSION = "network:"
RESOLVE_TIMEOUT_S = 10.0


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host of every new connection, then connects to that address."""

    def __init__(self, allow: AllowList, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.allow = allow
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        async with asyncio.timeout(timeout or RESOLVE_TIMEOUT_S):
            address = await resolve_checked(host, port, self.allow)
        return await self.inner.connect_tcp(
            str(address), port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )  # fmt: skip

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused("outbound requests over unix sockets are refused")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedHTTPTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose pool connects only to checked addresses (no proxy)."""

    def __init__(
        self, allow: AllowList, *, retries: int = 0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(retries=retries, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            retries=retries,
            network_backend=GuardedBackend(allow),
        )


def _url_hosts(value: Any) -> Iterable[str]:
    """Hosts of every http(s) URL string in a config value (nested objects and lists too)."""
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            host = urlsplit(value).hostname
            if host:
                yield host
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _url_hosts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _url_hosts(item)


@dataclass(frozen=True)
class HostPermissions:
    """The hosts one instance may reach: exact names, ``*.suffix`` patterns or ``*`` (any)."""

    patterns: frozenset[str]

    @classmethod
    def build(
        cls, permissions: Iterable[str], config: Mapping[str, Any], extra_urls: Iterable[str] = ()
    ) -> HostPermissions:
        """From manifest permissions (``network:<host pattern>``) and the instance's config URLs."""
        patterns = {
            p[len(NETWORK_PERMISSION) :].lower() for p in permissions
            if p.startswith(NETWORK_PERMISSION)
        }  # fmt: skip
        patterns.update(h.lower() for h in _url_hosts(dict(config)))
        patterns.update(h.lower() for h in _url_hosts(list(extra_urls)))
        return cls(frozenset(patterns))

    def allows(self, host: str) -> bool:
        name = host.lower().rstrip(".").strip("[]")
        if "*" in self.patterns or name in self.patterns:
            return True
        return any(p.startswith("*.") and name.endswith(p[1:]) for p in self.patterns)

    def check(self, host: str) -> None:
        """Raise ``EgressNotPermitted`` unless ``host`` is permitted."""
        if not self.allows(host):
            raise EgressNotPermitted(
                f"outbound request to {host!r} refused: the plugin's manifest permissions"
                " (network:<host>) and the instance's config URLs do not name this host",
                host=host,
            )


@dataclass(frozen=True)
class Destination:
    """A checked destination: the URL's host and port and the address to connect to."""

    host: str
    port: int
    address: IPAddress

    def curl_resolve(self) -> str:
        """``host:port:address`` as curl's ``--resolve`` (git's ``http.curloptResolve``) wants."""
        address = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.host}:{self.port}:{address}"


async def checked_destination(
    url: str, allow: AllowList, permitted: HostPermissions
) -> Destination:
    """The guard's checks for a client that is not ``httpx`` (``git`` over HTTP): the URL
    (scheme, literal addresses), the instance's host permissions, then every address the name
    resolves to; the caller pins its connection to ``Destination.address`` and follows no
    redirect (an unchecked hop)."""
    check_url(url, allow)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    permitted.check(host)
    async with asyncio.timeout(RESOLVE_TIMEOUT_S):
        address = await resolve_checked(host, port, allow)
    return Destination(host, port, address)


class EgressTransport(httpx.AsyncBaseTransport):
    """One instance's outbound requests: URL and permission checks, then ``inner``."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        allow: AllowList,
        permitted: HostPermissions,
        on_refused: Callable[[EgressRefused], None] | None = None,
    ) -> None:
        self.inner = inner
        self.allow = allow
        self.permitted = permitted
        self.on_refused = on_refused

    def check(self, url: httpx.URL) -> None:
        """Raise ``EgressRefused`` when this instance may not send a request to ``url``."""
        check_url(str(url), self.allow)
        self.permitted.check(url.host)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            self.check(request.url)
            return await self.inner.handle_async_request(request)
        except EgressRefused as err:
            if self.on_refused is not None:
                self.on_refused(err)
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()
