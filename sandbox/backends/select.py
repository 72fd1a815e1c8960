"""Choose the sandbox backend from the settings (``DCODER_SANDBOX_BACKEND``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sandbox.backends.base import SandboxBackend
from sandbox.backends.bwrap import BwrapBackend
from sandbox.backends.docker import DockerBackend
from sandbox.errors import SandboxUnavailable

if TYPE_CHECKING:
    from core.settings import SandboxSettings

log = logging.getLogger(__name__)


def build(name: str, settings: SandboxSettings) -> SandboxBackend:
    """The backend called ``name``, configured from the settings (not checked for availability)."""
    if name == "docker":
        return DockerBackend(settings.docker_image, settings.docker_host)
    if name == "bwrap":
        return BwrapBackend(settings.tools_dir)
    raise SandboxUnavailable(f"unknown sandbox backend {name!r} (docker, bwrap)")


def select(settings: SandboxSettings) -> SandboxBackend:
    """``docker``/``bwrap`` as configured, or for ``auto`` docker when usable, else bwrap."""
    if settings.backend != "auto":
        backend = build(settings.backend, settings)
        why = backend.available()
        if why:
            raise SandboxUnavailable(f"sandbox backend {backend.name} unavailable: {why}")
        return backend
    reasons = []
    for name in ("docker", "bwrap"):
        backend = build(name, settings)
        why = backend.available()
        if why is None:
            log.info("sandbox backend: %s", name)
            return backend
        reasons.append(f"{name}: {why}")
        log.info("sandbox backend %s unavailable: %s", name, why)
    raise SandboxUnavailable("no sandbox backend can run here; " + "; ".join(reasons))
