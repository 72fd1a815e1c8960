"""Thin wrappers around every ``ray.*`` call the upper floors make.

Nothing above this module calls ``ray.get_actor``/``ray.get``: they await these helpers, which
put a timeout on every wait and turn Ray failures into ``DependencyUnavailable``.
"""

from __future__ import annotations

import asyncio
import hashlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ray.exceptions import ActorDiedError, ActorUnavailableError, RayError

from actors import naming
from actors.directory import Directory
from core.errors import DependencyUnavailable, IntegrationsError


def service_version() -> str:
    try:
        return version("dcoder-integrations")
    except PackageNotFoundError:
        return "0+unknown"


def directory_handle(namespace: str) -> Any:
    """The detached directory actor, created on first use (idempotent across processes)."""
    return Directory.options(  # type: ignore[attr-defined]
        name=naming.DIRECTORY,
        namespace=namespace,
        lifetime="detached",
        get_if_exists=True,
    ).remote(service_version())


async def await_ref(ref: Any, timeout_s: float, what: str) -> Any:
    """Await an ObjectRef with a timeout; Ray errors become DependencyUnavailable."""
    try:
        return await asyncio.wait_for(ref, timeout=timeout_s)
    except TimeoutError as err:
        raise DependencyUnavailable(f"Ray: {what} did not answer within {timeout_s}s") from err
    except RayError as err:
        raise DependencyUnavailable(f"Ray: {what} failed: {err}") from err


class DirectoryClient:
    """What the API uses to talk to the directory actor."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._handle: Any = None

    async def ping(self, timeout_s: float = 2.0) -> dict[str, Any]:
        """The directory's identity; raises DependencyUnavailable when Ray does not answer."""
        if self._handle is None:
            # Looking the actor up talks to the GCS synchronously: keep it off the event loop.
            self._handle = await asyncio.to_thread(directory_handle, self.namespace)
        try:
            result: dict[str, Any] = await await_ref(
                self._handle.ping.remote(), timeout_s, "directory.ping"
            )
        except DependencyUnavailable:
            self._handle = None  # look it up again next time (it may have been replaced)
            raise
        return result


def _unwrap(err: RayError) -> BaseException:
    """The IntegrationsError a remote method raised, or the Ray error itself."""
    cause = getattr(err, "cause", None)
    return cause if isinstance(cause, IntegrationsError) else err


class TenantHosts:
    """Routes each tenant to its host actor (stable hash) with timeouts and one retry on death."""

    def __init__(self, namespace: str, count: int) -> None:
        self.namespace = namespace
        self.count = count
        self._handles: dict[int, Any] = {}

    def index(self, tenant_id: str) -> int:
        return int(hashlib.sha256(tenant_id.encode()).hexdigest()[:8], 16) % self.count

    def _create(self, index: int) -> Any:
        from actors.tenant_host import TenantHost

        return TenantHost.options(  # type: ignore[attr-defined]
            name=naming.tenant_host(index),
            namespace=self.namespace,
            lifetime="detached",
            get_if_exists=True,
        ).remote(index)

    async def handle(self, index: int) -> Any:
        """The host actor of a slot, created on first use (idempotent across processes)."""
        if index not in self._handles:
            self._handles[index] = await asyncio.to_thread(self._create, index)
        return self._handles[index]

    async def call(self, tenant_id: str, op: str, timeout_s: float = 60.0, **kwargs: Any) -> Any:
        """Run ``op`` on the tenant's runtime; a dead host is replaced and the call retried once."""
        index = self.index(tenant_id)
        for attempt in (1, 2):
            host = await self.handle(index)
            try:
                return await asyncio.wait_for(host.call.remote(tenant_id, op, kwargs), timeout_s)
            except (ActorDiedError, ActorUnavailableError) as err:
                self._handles.pop(index, None)
                if attempt == 2:
                    raise DependencyUnavailable(f"tenant host {index} unavailable: {err}") from err
            except TimeoutError as err:
                raise DependencyUnavailable(f"tenant host {index}: {op} timed out") from err
            except RayError as err:
                raise _unwrap(err) from err
        raise AssertionError("unreachable")

    async def broadcast(self, method: str, timeout_s: float = 30.0) -> list[Any]:
        """Call a no-argument method on every host actor."""
        hosts = [await self.handle(i) for i in range(self.count)]
        refs = [getattr(h, method).remote() for h in hosts]
        return list(await asyncio.wait_for(asyncio.gather(*refs), timeout_s))


def relay_handles(namespace: str, count: int) -> list[Any]:
    """The detached event relay actors, created when missing (idempotent across processes)."""
    from actors.event_relay import EventRelay

    return [
        EventRelay.options(  # type: ignore[attr-defined]
            name=naming.event_relay(i), namespace=namespace, lifetime="detached",
            get_if_exists=True,
        ).remote(i)
        for i in range(count)
    ]  # fmt: skip


def start_relays(namespace: str, count: int) -> list[Any]:
    """Make sure every relay actor exists and consumes (idempotent)."""
    relays = relay_handles(namespace, count)
    for relay in relays:
        relay.start.remote()
    return relays
