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


JOB_RUNNER = "dcoder.job-runner"
"""The detached actor that runs background jobs as Ray tasks (and drives schedules)."""
