"""The states of a plugin instance and which hook may run in which state (shared by all hosts)."""

from __future__ import annotations

from enum import StrEnum

from core.errors import Conflict


class InstanceState(StrEnum):
    """Lifecycle state of one plugin instance."""

    NEW = "new"  # created, config not yet accepted
    INSTALLED = "installed"  # configured and installed, not processing
    ENABLED = "enabled"  # receives webhooks and events
    DISABLED = "disabled"  # installed, processing stopped
    # credentials refused (revoked, expired): deliveries are kept, not attempted, until a new
    # authorization (OAuth callback or a new API token) resumes the instance
    NEEDS_REAUTH = "needs_reauth"
    UNINSTALLED = "uninstalled"  # removed


_S = InstanceState
ALLOWED: dict[str, frozenset[InstanceState]] = {
    "configure": frozenset({_S.NEW, _S.INSTALLED, _S.ENABLED, _S.DISABLED, _S.NEEDS_REAUTH}),
    "install": frozenset({_S.NEW}),
    "enable": frozenset({_S.INSTALLED, _S.DISABLED}),
    "disable": frozenset({_S.ENABLED, _S.NEEDS_REAUTH}),
    "uninstall": frozenset({_S.INSTALLED, _S.DISABLED}),
    "upgrade": frozenset({_S.INSTALLED, _S.DISABLED, _S.ENABLED, _S.NEEDS_REAUTH}),
    "handle_webhook": frozenset({_S.ENABLED}),
    "handle_event": frozenset({_S.ENABLED}),
    "health": frozenset({_S.NEW, _S.INSTALLED, _S.ENABLED, _S.DISABLED, _S.NEEDS_REAUTH}),
    # not hooks: the host's own transitions when credentials are refused / authorized again
    "auth_refused": frozenset({_S.ENABLED}),
    "reauthorized": frozenset({_S.NEEDS_REAUTH}),
}
"""For each hook, the states in which the host may call it."""

_NEXT: dict[str, InstanceState] = {
    "install": _S.INSTALLED,
    "enable": _S.ENABLED,
    "disable": _S.DISABLED,
    "uninstall": _S.UNINSTALLED,
    "auth_refused": _S.NEEDS_REAUTH,
    "reauthorized": _S.ENABLED,
}

KEEPS_DELIVERIES = frozenset({_S.ENABLED, _S.NEEDS_REAUTH})
"""States whose instance still gets (and keeps) webhooks and events."""


def check_transition(state: InstanceState, hook: str) -> InstanceState:
    """The state after ``hook`` succeeds in ``state``; ``Conflict`` (409) if not allowed."""
    if state not in ALLOWED[hook]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[hook]))
        raise Conflict(f"cannot {hook} an instance that is {state.value} (allowed: {allowed})")
    return _NEXT.get(hook, state)
