"""The asyncpg pool wrapper every component receives (never a global)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.errors import DependencyUnavailable
from core.settings import DatabaseSettings


async def keep_session(conn: asyncpg.Connection) -> None:
    """Reset of a connection going back to the pool: nothing beyond asyncpg's own part.

    asyncpg always rolls back an open transaction and drops listeners first. Its default reset
    then runs ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` — one more
    round trip to PostgreSQL for every query made through the pool. No code here keeps session
    state on a pooled connection (no ``SET``, ``LISTEN``, session advisory locks or cursors
    outside a transaction; migrations take transaction-scoped locks), so there is nothing to undo.
    """


class Database:
    """An asyncpg pool created lazily, with timeouts on connect and on every command.

    Connections keep no session state between uses (see :func:`keep_session`).
    """

    def __init__(
        self,
        url: str,
        settings: DatabaseSettings | None = None,
        server_settings: dict[str, str] | None = None,
        on_connect: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
        *,
        keep_open: bool = False,
    ) -> None:
        self.url = url
        self.settings = settings or DatabaseSettings()
        self.server_settings = server_settings
        self.on_connect = on_connect  # run once on every new pooled connection
        self.keep_open = keep_open
        """Open every connection (``pool_max``) with the pool, so none is closed when idle: for
        a latency-bound pool (the webhook ingest's), where a request must not wait for a
        connection to be made (see :meth:`_min_size`)."""
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        """The pool, created on first use."""
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    try:
                        self._pool = await asyncpg.create_pool(
                            self.url,
                            min_size=self._min_size(),
                            max_size=self.settings.pool_max,
                            command_timeout=self.settings.command_timeout_s,
                            timeout=self.settings.command_timeout_s,
                            reset=keep_session,
                            server_settings=self.server_settings,
                            init=self.on_connect,
                        )
                    except (OSError, asyncpg.PostgresError, TimeoutError) as err:
                        raise DependencyUnavailable(f"PostgreSQL unreachable: {err}") from err
        return self._pool

    def _min_size(self) -> int:
        """Connections opened with the pool.

        A pool that grows on demand opens a connection when its open ones are all in use:
        during a burst, or a moment of contention, the requests that queue then wait for it.
        A new connection costs a fork and a SCRAM exchange in PostgreSQL, a hash in this
        process, and the first preparation of each statement: 35-80 ms each were seen in the
        ingest's slowest requests under load (issue #19). asyncpg closes a connection above
        ``min_size`` once it has been idle for 300 s, so a pool that stays small in calm
        operation pays that again at each burst. ``keep_open`` pays it once, at start.
        """
        return self.settings.pool_max if self.keep_open else self.settings.pool_min

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection."""
        pool = await self.pool()
        async with pool.acquire(timeout=self.settings.command_timeout_s) as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside a transaction."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def execute(self, query: str, *args: Any) -> str:
        async with self.connection() as conn:
            return str(await conn.execute(query, *args))

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            return list(await conn.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.connection() as conn:
            return await conn.fetchval(query, *args)

    async def ping(self, timeout_s: float = 2.0) -> None:
        """Raise DependencyUnavailable unless ``SELECT 1`` answers within the timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as err:
            raise DependencyUnavailable(f"PostgreSQL unreachable: {err!r}") from err

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


async def ensure_database(url: str, timeout_s: float = 10.0) -> None:
    """Create the database named in ``url`` when it does not exist yet (needs CREATEDB)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    conn = await asyncpg.connect(admin_url, timeout=timeout_s)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass  # created concurrently by another process
    finally:
        await conn.close()
