"""A Ray driver attached to an isolated service's cluster, to read and passivate tenant hosts.

Thin wrapper: every ``ray.*`` call of the tenant benchmark is here, each with a timeout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from actors import naming
from core.settings import Settings
from serve_app.launcher.ray_head import use_auth

TIMEOUT_S = 60.0


class HostProbe:
    """Handles of the service's tenant host actors (looked up by name)."""

    def __init__(self, namespace: str, count: int) -> None:
        import ray

        self.namespace = namespace
        self.hosts = [
            ray.get_actor(naming.tenant_host(i), namespace=namespace) for i in range(count)
        ]

    def stats(self) -> list[dict[str, Any]]:
        """``TenantHost.stats()`` of every host."""
        import ray

        found: list[dict[str, Any]] = ray.get(
            [h.stats.remote() for h in self.hosts], timeout=TIMEOUT_S
        )
        return found

    def activate(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """``get`` each (tenant, instance) straight on its host actor, no HTTP; seconds each."""
        import ray

        from actors.handles import TenantHosts

        route = TenantHosts(self.namespace, len(self.hosts))
        took: list[float] = []
        for tenant, instance in pairs:
            host = self.hosts[route.index(tenant)]
            started = time.perf_counter()
            ray.get(host.call.remote(tenant, "get", {"instance_id": instance}), timeout=TIMEOUT_S)
            took.append(time.perf_counter() - started)
        return np.array(took)

    def passivate(self, idle_s: float = 0.0) -> int:
        """Passivate tenants idle for ``idle_s`` on every host; return how many were dropped."""
        import ray

        return sum(ray.get([h.passivate.remote(idle_s) for h in self.hosts], timeout=TIMEOUT_S))


@contextlib.contextmanager
def attached(settings: Settings, address: str, hosts: int) -> Iterator[HostProbe]:
    """A driver connected to ``address`` for the duration of the block."""
    use_auth(settings)  # the local head runs with token auth, its token in the data dir
    namespace = settings.ray.namespace
    # The head listens on 127.0.0.1 only; without this Ray dials the machine's own address. Ray
    # reads it when first imported, hence the imports inside these functions.
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    ray.init(
        address=address, namespace=namespace, log_to_driver=False, logging_level=logging.ERROR,
        _node_ip_address="127.0.0.1",
    )  # fmt: skip
    try:
        yield HostProbe(namespace, hosts)
    finally:
        ray.shutdown()
