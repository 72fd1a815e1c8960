"""``ctx.credentials`` and the ``httpx.Auth`` the host attaches to ``ctx.http``.

``ctx.credentials`` is the instance's encrypted credential (an API token, a personal access token
or OAuth tokens): a plugin may read and replace it, the API never returns it and nothing logs it
(``Credential``'s repr hides its values). The tenant usually sets it through the API
(``PUT …/{instance}/auth`` or the OAuth install flow); a plugin writes it only for flows of its own.

``InstanceAuth`` puts the instance's ``Authorization`` header on every request of ``ctx.http``;
the token source refreshes OAuth tokens before they expire and once after a 401.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from datetime import datetime
from typing import Protocol

import httpx

from core.credentials import Credential, CredentialStore

__all__ = ["Credential", "CredentialVault", "InstanceAuth", "MemoryCredentials", "TokenSource"]


class CredentialVault(Protocol):
    """The instance's writable credential (``ctx.credentials``)."""

    async def get(self) -> Credential | None: ...

    async def put(
        self, kind: str, values: dict[str, str], *, expires_at: datetime | None = None
    ) -> None: ...

    async def delete(self) -> bool: ...


class MemoryCredentials:
    """In-memory ``CredentialVault`` (the test harness's default)."""

    def __init__(self, credential: Credential | None = None) -> None:
        self._credential = credential

    def __repr__(self) -> str:
        kind = None if self._credential is None else self._credential.kind
        return f"MemoryCredentials(kind={kind!r})"

    async def get(self) -> Credential | None:
        return self._credential

    async def put(
        self, kind: str, values: dict[str, str], *, expires_at: datetime | None = None
    ) -> None:
        self._credential = Credential(kind, dict(values), expires_at)

    async def delete(self) -> bool:
        had, self._credential = self._credential is not None, None
        return had


class StoredCredentials:
    """``CredentialVault`` on the encrypted ``instance_credentials`` row of one instance."""

    def __init__(
        self,
        store: CredentialStore,
        tenant_id: str,
        instance_id: str,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._instance_id = instance_id
        self._on_change = on_change

    def __repr__(self) -> str:
        return f"StoredCredentials(instance={self._instance_id!r})"

    async def get(self) -> Credential | None:
        return await self._store.get(self._tenant_id, self._instance_id)

    async def put(
        self, kind: str, values: dict[str, str], *, expires_at: datetime | None = None
    ) -> None:
        credential = Credential(kind, dict(values), expires_at)
        await self._store.put(self._tenant_id, self._instance_id, credential)
        if self._on_change is not None:
            self._on_change()

    async def delete(self) -> bool:
        deleted = await self._store.delete(self._tenant_id, self._instance_id)
        if self._on_change is not None:
            self._on_change()
        return deleted


class TokenSource(Protocol):
    """Answers the ``Authorization`` header; ``stale`` names one the server just refused."""

    def authorization(self, stale: str | None = None) -> Awaitable[str | None]: ...


class InstanceAuth(httpx.Auth):
    """Attaches the instance's token; after a 401, refreshes once and retries once.

    ``to_host`` limits which hosts get the token (the instance's own: its config URLs and the
    hosts its manifest names), so a plugin allowed to fetch anywhere never sends it elsewhere.
    """

    requires_request_body = True  # the retry after a 401 resends the body

    def __init__(self, source: TokenSource, to_host: Callable[[str], bool] | None = None) -> None:
        self.source = source
        self.to_host = to_host

    def __repr__(self) -> str:
        return "InstanceAuth()"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("InstanceAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        own_header = "Authorization" in request.headers  # the plugin chose its own
        if own_header or (self.to_host is not None and not self.to_host(request.url.host)):
            yield request
            return
        header = await self.source.authorization()
        if header is None:
            yield request
            return
        request.headers["Authorization"] = header
        response = yield request
        if response.status_code != 401:
            return
        renewed = await self.source.authorization(stale=header)
        if renewed is None or renewed == header:
            return
        request.headers["Authorization"] = renewed
        yield request
