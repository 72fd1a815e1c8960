"""A job's way to its own instance from the Ray worker: ``JobRun.store`` and ``JobRun.http``.

Like ``JobRun.authorization()`` (``actors.job_auth``), both are opened here, in the worker, for
the one instance the job row names (the tenant and instance ids come from the row, never from
the plugin or the payload), and closed when the job ends; nothing is kept between jobs.

- ``store`` is ``ctx.store``'s table and scoping (``instance_kv`` rows of the instance, through
  the same ``PostgresKeyValueStore``). On first use it checks that the instance is the tenant's
  (a job row naming another tenant's instance gets a refusal, not its keys).
- ``http`` is an ``httpx.AsyncClient`` on the egress guard, allowed the instance's own hosts
  (its config URLs and manifest ``network:`` permissions, as in the tenant host), with the
  instance's ``Authorization`` on those hosts only (OAuth tokens refreshed when due and once
  after a 401, by a ``TokenManager`` of this job). No circuit breakers: a job retries itself.

Everything opens lazily inside the job's event loop (``asyncio.run`` of an ``async def
run_job``); a sync ``run_job`` cannot await and so never opens anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from actors.host.backends import PostgresKeyValueStore
from actors.instance_hosts import instance_hosts
from core.credentials import CredentialStore
from core.crypto import SecretBox
from core.db import Database
from core.egress import AllowList
from core.egress_transport import EgressTransport, GuardedHTTPTransport, HostPermissions
from core.endpoints import database_url
from core.errors import PermanentError
from core.keys import secrets_keys
from core.oauth import TokenEndpoint, TokenManager
from core.settings import Settings, load_settings
from plugin_sdk.auth import InstanceAuth
from plugin_sdk.manifest import Manifest

HTTP_TIMEOUT_S = 60.0


class JobAccess:
    """The store and HTTP client of one job's instance (one per job attempt)."""

    def __init__(
        self,
        tenant_id: str,
        instance_id: str,
        manifest: Manifest | None,
        config: Mapping[str, Any],
        endpoints: Mapping[str, TokenEndpoint] | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.instance_id = instance_id
        self.manifest = manifest
        self.config = dict(config)
        self.endpoints = dict(endpoints or {})
        self.store = WorkerKeyValueStore(self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._settings: Settings | None = None
        self._db: Database | None = None
        self._owner_checked = False
        self._clients: list[httpx.AsyncClient] = []
        self._http: httpx.AsyncClient | None = None

    def _same_loop(self) -> None:
        """A pool belongs to one event loop: one opened in another (finished) loop is dropped."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError as err:
            raise PermanentError("job.store and job.http need an async def run_job") from err
        if self._loop is not loop:
            self._loop, self._db, self._http, self._clients = loop, None, None, []
            self._owner_checked = False

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    async def database(self) -> Database:
        """The worker's pool for this job, after checking that the instance is the tenant's."""
        self._same_loop()
        if self._db is None:
            settings = self.settings()
            self._db = Database(database_url(settings), settings.database)
        if not self._owner_checked:
            owner = await self._db.fetchval(
                "SELECT tenant_id FROM plugin_instances WHERE id = $1", self.instance_id
            )
            if owner != self.tenant_id:
                raise PermanentError(
                    f"instance {self.instance_id!r} is not an instance of tenant "
                    f"{self.tenant_id!r}: the job gets no store"
                )
            self._owner_checked = True
        return self._db

    def http(self) -> httpx.AsyncClient:
        """``JobRun.http``: one client per job (see the module's docstring)."""
        self._same_loop()
        if self._http is None:
            if self.manifest is None:
                raise PermanentError("jobs of platform kinds get no HTTP client")
            settings = self.settings()
            allow = AllowList.parse(settings.egress.allow.split(","))
            hosts = instance_hosts(self.manifest, self.config)  # as the tenant host's ctx.http
            auth = None
            if self.manifest.auth:
                tokens = self._tokens(allow, hosts.permitted)
                auth = InstanceAuth(tokens, to_host=hosts.own.allows)
            guarded = EgressTransport(GuardedHTTPTransport(allow), allow, hosts.permitted)
            self._http = self._client(guarded, auth)
        return self._http

    def _client(
        self, transport: httpx.AsyncBaseTransport, auth: httpx.Auth | None = None
    ) -> httpx.AsyncClient:
        timeout = httpx.Timeout(HTTP_TIMEOUT_S, connect=5.0)
        client = httpx.AsyncClient(transport=transport, trust_env=False, timeout=timeout, auth=auth)
        self._clients.append(client)
        return client

    def _tokens(self, allow: AllowList, permitted: HostPermissions) -> _JobTokens:
        token_http = self._client(EgressTransport(GuardedHTTPTransport(allow), allow, permitted))
        return _JobTokens(self, token_http)

    async def aclose(self) -> None:
        """Close what this job opened (in the loop it was opened in)."""
        clients, self._clients, self._http = self._clients, [], None
        db, self._db = self._db, None
        for client in clients:
            await client.aclose()
        if db is not None:
            await db.close()


class _JobTokens:
    """The instance's token source for ``JobRun.http`` (a ``TokenManager`` made on first use)."""

    def __init__(self, access: JobAccess, http: httpx.AsyncClient) -> None:
        self.access = access
        self.http = http
        self.manager: TokenManager | None = None

    async def authorization(self, stale: str | None = None) -> str | None:
        if self.manager is None:
            access = self.access
            settings = access.settings()
            box = SecretBox(secrets_keys(settings, create=False))
            self.manager = TokenManager(
                CredentialStore(await access.database(), box), access.tenant_id,
                access.instance_id, access.endpoints, self.http,
                refresh_before_s=settings.oauth.refresh_before_s,
            )  # fmt: skip
        return await self.manager.authorization(stale)


class WorkerKeyValueStore:
    """``JobRun.store`` in the worker: ``ctx.store``'s rows of the job's instance."""

    def __init__(self, access: JobAccess) -> None:
        self._access = access

    def __repr__(self) -> str:
        return f"WorkerKeyValueStore(instance={self._access.instance_id!r})"

    async def _kv(self) -> PostgresKeyValueStore:
        return PostgresKeyValueStore(await self._access.database(), self._access.instance_id)

    async def get(self, key: str) -> Any | None:
        """The value at ``key`` or ``None``."""
        return await (await self._kv()).get(key)

    async def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store ``value`` (JSON-serialisable) at ``key``."""
        await (await self._kv()).set(key, value, ttl_s=ttl_s)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; whether it was there."""
        return await (await self._kv()).delete(key)

    async def keys(self, prefix: str = "") -> list[str]:
        """Live keys starting with ``prefix``."""
        return await (await self._kv()).keys(prefix)
