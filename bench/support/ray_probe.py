"""A Ray driver attached to an isolated service's cluster, to read and passivate tenant hosts.

Thin wrapper: every ``ray.*`` call of the tenant benchmark is here, each with a timeout.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

import ray

from actors import naming

TIMEOUT_S = 60.0


class HostProbe:
    """Handles of the service's tenant host actors (looked up by name)."""

    def __init__(self, namespace: str, count: int) -> None:
        self.hosts = [
            ray.get_actor(naming.tenant_host(i), namespace=namespace) for i in range(count)
        ]

    def stats(self) -> list[dict[str, Any]]:
        """``TenantHost.stats()`` of every host."""
        found: list[dict[str, Any]] = ray.get(
            [h.stats.remote() for h in self.hosts], timeout=TIMEOUT_S
        )
        return found

    def passivate(self, idle_s: float = 0.0) -> int:
        """Passivate tenants idle for ``idle_s`` on every host; return how many were dropped."""
        return sum(ray.get([h.passivate.remote(idle_s) for h in self.hosts], timeout=TIMEOUT_S))


@contextlib.contextmanager
def attached(address: str, namespace: str, hosts: int) -> Iterator[HostProbe]:
    """A driver connected to ``address`` for the duration of the block."""
    os.environ.setdefault("RAY_AUTH_MODE", "token")  # the local head runs with token auth
    ray.init(address=address, namespace=namespace, log_to_driver=False, logging_level=logging.ERROR)
    try:
        yield HostProbe(namespace, hosts)
    finally:
        ray.shutdown()
