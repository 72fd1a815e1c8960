"""The only place Ray actor names and the namespace are written."""

from __future__ import annotations

NAMESPACE_DEFAULT = "dcoder"

DIRECTORY = "dcoder.directory"
"""The detached directory actor: service identity and the map of tenant hosts."""


def tenant_host(index: int) -> str:
    """Name of the tenant host actor in slot ``index`` (several tenants per host process)."""
    return f"dcoder.tenant-host.{index}"


def event_relay(index: int) -> str:
    """Name of the JetStream consumer actor in slot ``index``."""
    return f"dcoder.event-relay.{index}"


REVIEW_COORDINATOR = "dcoder.review-coordinator"
"""The actor that tracks running PR reviews so a newer commit can cancel an older review."""
