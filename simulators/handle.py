"""What each simulator sub-app exposes to the combined app's ``/_sim`` control endpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from simulators.webhooks_out import WebhookSender


@dataclass
class SimHandle:
    """Reset and inspect one sub-app's in-memory state; its webhook sender, if it has one."""

    reset: Callable[[], None]
    snapshot: Callable[[], dict[str, Any]]
    sender: WebhookSender | None = None


def attach(app: Starlette, handle: SimHandle) -> None:
    """Store ``handle`` where the combined app looks for it (``app.state.sim``)."""
    app.state.sim = handle


def handle_of(app: Any) -> SimHandle | None:
    """The handle of a mounted sub-app, if it attached one."""
    state = getattr(app, "state", None)
    found = getattr(state, "sim", None) if state is not None else None
    return found if isinstance(found, SimHandle) else None
