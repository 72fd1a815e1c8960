"""Errors of the sandbox: a backend that cannot run here, or a run that could not start."""

from __future__ import annotations

from core.errors import IntegrationsError


class SandboxError(IntegrationsError):
    """The sandbox could not prepare, run or clean up (not: the analysed code failed)."""

    code = "sandbox-error"
    status = 500
    title = "Sandbox error"


class SandboxUnavailable(SandboxError):
    """The requested backend cannot run on this machine (no engine, no image, no bwrap)."""

    code = "sandbox-unavailable"
    status = 503
    title = "Sandbox unavailable"
