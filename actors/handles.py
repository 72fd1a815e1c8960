"""Thin wrappers around every ``ray.*`` call the upper floors make.

Nothing above this module calls ``ray.get_actor``/``ray.get``: they await these helpers, which
put a timeout on every wait and turn Ray failures into ``DependencyUnavailable``.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ray.exceptions import RayError

from actors import naming
from actors.directory import Directory
from core.errors import DependencyUnavailable


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
