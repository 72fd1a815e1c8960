"""Thin, typed wrappers around every ``ray.*`` call the upper floors make.

Nothing above this module calls ``ray.get_actor`` or awaits an actor directly: they use these
clients, which put a timeout on every wait and turn Ray failures into ``DependencyUnavailable``.
This module imports no actor class: a client is handed a ``spawn`` function that returns the
actor's handle, creating it when missing (``actors.spawn`` builds the clients upper floors use);
without one it only looks the named actor up.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import ray
from prometheus_client.metrics_core import Metric
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayError

from actors import naming
from actors.tenant_ops import TenantOp
from core.contracts import CreateInstance, InstanceHealth, InstanceView, UpdateInstance
from core.errors import DependencyUnavailable, IntegrationsError
from core.oauth import AuthConfigInput, AuthStatus
from plugin_sdk.events import Event, WebhookDelivery

log = logging.getLogger(__name__)

Spawn = Callable[[], Any]
"""Returns an actor's handle, creating the actor when it is missing (idempotent)."""


def service_version() -> str:
    try:
        return version("dcoder-integrations")
    except PackageNotFoundError:
        return "0+unknown"


def lookup(name: str, namespace: str) -> Any:
    """The handle of an existing named actor; ``DependencyUnavailable`` when there is none."""
    try:
        return ray.get_actor(name, namespace=namespace)
    except ValueError as err:
        raise DependencyUnavailable(f"Ray: no actor {name!r} in {namespace!r}") from err


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

    def __init__(self, namespace: str, spawn: Spawn | None = None) -> None:
        self.namespace = namespace
        self._spawn = spawn or (lambda: lookup(naming.DIRECTORY, namespace))
        self._handle: Any = None

    async def ping(self, timeout_s: float = 2.0) -> dict[str, Any]:
        """The directory's identity; raises DependencyUnavailable when Ray does not answer."""
        try:
            if self._handle is None:
                # Looking the actor up talks to the GCS synchronously: keep it off the event loop.
                self._handle = await asyncio.to_thread(self._spawn)
            result: dict[str, Any] = await await_ref(
                self._handle.ping.remote(), timeout_s, "directory.ping"
            )
        except DependencyUnavailable:
            self._handle = None  # look it up again next time (it may have been replaced)
            raise
        return result


async def relay_metric_families(relays: list[Any], timeout_s: float) -> list[list[Metric]]:
    """Each relay's metric families (``DependencyUnavailable`` unless all answer in time)."""
    refs = [relay.metric_families.remote() for relay in relays]
    found: list[list[Metric]] = await await_ref(
        asyncio.gather(*refs), timeout_s, "relay.metric_families"
    )
    return found


def cancel(ref: Any) -> None:
    """Cancel a Ray call its caller gave up on: dropped if still queued, else interrupted."""
    if isinstance(ref, ray.ObjectRef):
        try:
            ray.cancel(ref)
        except Exception as err:  # noqa: BLE001 - finished meanwhile, or its actor is gone
            log.debug("could not cancel a Ray call: %r", err)


def _unwrap(err: RayError) -> BaseException:
    """The IntegrationsError a remote method raised, or the Ray error itself."""
    cause = getattr(err, "cause", None)
    return cause if isinstance(cause, IntegrationsError) else err


def host_index(tenant_id: str, count: int) -> int:
    """The tenant host slot of a tenant (a stable hash)."""
    return int(hashlib.sha256(tenant_id.encode()).hexdigest()[:8], 16) % count


class TenantHosts:
    """Routes each tenant to its host actor with timeouts and one retry when a host died."""

    def __init__(
        self, namespace: str, count: int, spawn: Callable[[int], Any] | None = None
    ) -> None:
        self.namespace = namespace
        self.count = count
        self._spawn = spawn or (lambda i: lookup(naming.tenant_host(i), namespace))
        self._handles: dict[int, Any] = {}

    def index(self, tenant_id: str) -> int:
        return host_index(tenant_id, self.count)

    async def handle(self, index: int) -> Any:
        """The host actor of a slot (created on first use when this client may spawn hosts)."""
        if index not in self._handles:
            self._handles[index] = await asyncio.to_thread(self._spawn, index)
        return self._handles[index]

    async def on_host(
        self, tenant_id: str, what: str, send: Callable[[Any], Any], timeout_s: float
    ) -> Any:
        """Await ``send(host)`` on the tenant's host; a dead host is replaced, tried once more."""
        index = self.index(tenant_id)
        for attempt in (1, 2):
            host = await self.handle(index)
            ref = send(host)
            try:
                return await asyncio.wait_for(ref, timeout_s)
            except (ActorDiedError, ActorUnavailableError) as err:
                self._handles.pop(index, None)
                if attempt == 2:
                    raise DependencyUnavailable(f"tenant host {index} unavailable: {err}") from err
            except TimeoutError as err:
                # Awaiting a Ray call with a timeout does not stop the call: cancel it, or a host
                # that fell behind keeps every abandoned call queued (and runs it later) while
                # the caller, its slot free again, sends more (issue #19: 3 GB in 3 minutes).
                cancel(ref)
                raise DependencyUnavailable(f"tenant host {index}: {what} timed out") from err
            except RayError as err:
                raise _unwrap(err) from err
        raise AssertionError("unreachable")

    async def _every_host(self, what: str, send: Callable[[Any], Any], timeout_s: float) -> Any:
        hosts = [await self.handle(i) for i in range(self.count)]
        try:
            return list(await asyncio.wait_for(asyncio.gather(*map(send, hosts)), timeout_s))
        except TimeoutError as err:
            raise DependencyUnavailable(f"tenant hosts: {what} timed out") from err
        except RayError as err:
            raise DependencyUnavailable(f"tenant hosts: {what} failed: {err}") from err


class TenantClient(TenantHosts):
    """The typed boundary between upper floors and the tenant hosts: one method per operation.

    Each runs one ``TenantOp`` on the tenant's runtime (the host dispatches on that closed set);
    errors a runtime raises (``NotFound``, ``Conflict``...) come back as themselves.
    """

    async def _op(self, tenant_id: str, op: TenantOp, timeout_s: float = 60.0, **kw: Any) -> Any:
        return await self.on_host(
            tenant_id, op.value, lambda host: host.call.remote(tenant_id, op.value, kw), timeout_s
        )

    # --- lifecycle -----------------------------------------------------------------------------
    async def create(self, tenant_id: str, request: CreateInstance, actor: str) -> InstanceView:
        view: InstanceView = await self._op(
            tenant_id, TenantOp.CREATE, request=request, actor=actor
        )
        return view

    async def update(
        self, tenant_id: str, instance_id: str, request: UpdateInstance, actor: str
    ) -> InstanceView:
        view: InstanceView = await self._op(
            tenant_id, TenantOp.UPDATE, instance_id=instance_id, request=request, actor=actor
        )
        return view

    async def transition(
        self, tenant_id: str, instance_id: str, hook: Literal["enable", "disable"], actor: str
    ) -> InstanceView:
        view: InstanceView = await self._op(
            tenant_id, TenantOp.TRANSITION, instance_id=instance_id, hook=hook, actor=actor
        )
        return view

    async def uninstall(self, tenant_id: str, instance_id: str, actor: str) -> None:
        await self._op(tenant_id, TenantOp.UNINSTALL, instance_id=instance_id, actor=actor)

    async def upgrade(
        self, tenant_id: str, instance_id: str, version: str | None, actor: str
    ) -> InstanceView:
        view: InstanceView = await self._op(
            tenant_id, TenantOp.UPGRADE, instance_id=instance_id, version=version, actor=actor
        )
        return view

    # --- credentials ---------------------------------------------------------------------------
    async def configure_auth(
        self, tenant_id: str, instance_id: str, request: AuthConfigInput, actor: str
    ) -> AuthStatus:
        status: AuthStatus = await self._op(
            tenant_id, TenantOp.CONFIGURE_AUTH, instance_id=instance_id, request=request,
            actor=actor,
        )  # fmt: skip
        return status

    async def oauth_start(
        self, tenant_id: str, instance_id: str, redirect_uri: str, actor: str
    ) -> dict[str, Any]:
        """The provider's ``authorize_url`` and the state's ``expires_at``."""
        started: dict[str, Any] = await self._op(
            tenant_id, TenantOp.OAUTH_START, instance_id=instance_id, redirect_uri=redirect_uri,
            actor=actor,
        )  # fmt: skip
        return started

    async def oauth_complete(self, tenant_id: str, state: str, code: str) -> AuthStatus:
        status: AuthStatus = await self._op(
            tenant_id, TenantOp.OAUTH_COMPLETE, state=state, code=code
        )
        return status

    # --- reads ---------------------------------------------------------------------------------
    async def get(self, tenant_id: str, instance_id: str) -> InstanceView:
        view: InstanceView = await self._op(tenant_id, TenantOp.GET, instance_id=instance_id)
        return view

    async def list_instances(self, tenant_id: str) -> list[InstanceView]:
        views: list[InstanceView] = await self._op(tenant_id, TenantOp.LIST_INSTANCES)
        return views

    async def health(self, tenant_id: str, instance_id: str) -> InstanceHealth:
        health: InstanceHealth = await self._op(tenant_id, TenantOp.HEALTH, instance_id=instance_id)
        return health

    async def auth_status(self, tenant_id: str, instance_id: str) -> AuthStatus:
        status: AuthStatus = await self._op(
            tenant_id, TenantOp.AUTH_STATUS, instance_id=instance_id
        )
        return status

    async def consumers_of(self, tenant_id: str, event: Event) -> list[str]:
        """Enabled instances of the tenant that consume ``event``."""
        found: list[str] = await self._op(tenant_id, TenantOp.CONSUMERS_OF, event=event)
        return found

    async def ingest_profile(self, tenant_id: str, instance_id: str) -> dict[str, Any] | None:
        """What the ingress needs to verify the instance's webhooks; None unless enabled."""
        profile: dict[str, Any] | None = await self._op(
            tenant_id, TenantOp.INGEST_PROFILE, instance_id=instance_id
        )
        return profile

    # --- work ----------------------------------------------------------------------------------
    async def handle_webhooks(
        self, tenant_id: str, deliveries: list[WebhookDelivery], timeout_s: float
    ) -> list[BaseException | None]:
        """Run the handlers of several deliveries; each one's error or None."""
        outcomes: list[BaseException | None] = await self._op(
            tenant_id, TenantOp.HANDLE_WEBHOOKS, timeout_s, deliveries=deliveries
        )
        return outcomes

    async def handle_event(
        self, tenant_id: str, event: Event, instance_id: str, timeout_s: float
    ) -> None:
        await self._op(
            tenant_id, TenantOp.HANDLE_EVENT, timeout_s, event=event, instance_id=instance_id
        )

    # --- the hosts themselves ------------------------------------------------------------------
    async def forget(self, tenant_id: str, timeout_s: float = 30.0) -> bool:
        """Drop what the tenant's host holds of the tenant (after its deletion); others stay."""
        return bool(
            await self.on_host(
                tenant_id, "forget", lambda host: host.forget.remote(tenant_id), timeout_s
            )
        )

    async def reload_sources(self, timeout_s: float = 30.0) -> None:
        """Every host loads plugin sources an operator added since it started."""
        await self._every_host("reload_sources", lambda h: h.reload_sources.remote(), timeout_s)

    async def stats(self, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        """Every host's active tenants, memory and breakers."""
        found: list[dict[str, Any]] = await self._every_host(
            "stats", lambda h: h.stats.remote(), timeout_s
        )
        return found


class JobRunnerClient:
    """Wakes the job runner (after a submit or a cancel) and reads its stats."""

    def __init__(self, namespace: str, spawn: Spawn | None = None, timeout_s: float = 5.0) -> None:
        self.namespace = namespace
        self.timeout_s = timeout_s
        self._spawn = spawn or (lambda: lookup(naming.JOB_RUNNER, namespace))
        self._handle: Any = None

    async def _call(self, method: Literal["wake", "stats"]) -> Any:
        try:
            if self._handle is None:
                self._handle = await asyncio.to_thread(self._spawn)
            remote = self._handle.wake if method == "wake" else self._handle.stats
            return await asyncio.wait_for(remote.remote(), self.timeout_s)
        except Exception as err:  # noqa: BLE001 - one error for every Ray failure
            self._handle = None  # look it up again next time (it may have been replaced)
            raise DependencyUnavailable(f"job runner unavailable: {err!r}") from err

    async def wake(self) -> bool:
        """Ask the runner to look at the queue now; False when it did not answer in time.

        Never raises: the runner polls anyway, so a lost wake only delays the start.
        """
        try:
            await self._call("wake")
        except DependencyUnavailable as err:
            log.warning("job runner did not answer a wake: %s", err)
            return False
        return True

    async def stats(self) -> dict[str, Any]:
        """The runner's jobs in flight (``DependencyUnavailable`` when it does not answer)."""
        found: dict[str, Any] = await self._call("stats")
        return found
