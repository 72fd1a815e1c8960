"""Sandbox backends and the choice between them (``select_backend``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.backends.base import (
    BASE_ENV,
    CONFIG_MOUNT,
    SCRATCH_MOUNT,
    TOOLS_MOUNT,
    WORKSPACE_MOUNT,
    KilledReason,
    Limits,
    RunResult,
    SandboxBackend,
    Workspace,
)

if TYPE_CHECKING:
    from core.settings import SandboxSettings

__all__ = [
    "BASE_ENV",
    "CONFIG_MOUNT",
    "SCRATCH_MOUNT",
    "TOOLS_MOUNT",
    "WORKSPACE_MOUNT",
    "KilledReason",
    "Limits",
    "RunResult",
    "SandboxBackend",
    "Workspace",
    "select_backend",
]


def select_backend(settings: SandboxSettings) -> SandboxBackend:
    """The backend the settings ask for; ``auto`` = docker when an engine answers and has the
    image, else bwrap. Raises ``SandboxUnavailable`` when the chosen backend cannot run here."""
    from sandbox.backends.select import select

    return select(settings)
