"""The closed set of operations a tenant host runs for one tenant (the wire names of the boundary).

``actors.handles.TenantClient`` sends them, ``actors.tenant_host.TenantHost`` dispatches them
through a fixed table: a name outside this set is refused before any tenant is touched.
"""

from __future__ import annotations

from enum import StrEnum


class TenantOp(StrEnum):
    """One operation of a tenant's runtime (``actors.host.tenant.TenantRuntime``)."""

    # lifecycle and credential changes: one at a time per tenant (its lifecycle lock)
    CREATE = "create"
    UPDATE = "update"
    TRANSITION = "transition"
    UNINSTALL = "uninstall"
    UPGRADE = "upgrade"
    CONFIGURE_AUTH = "configure_auth"
    OAUTH_START = "oauth_start"
    OAUTH_COMPLETE = "oauth_complete"
    # reads
    GET = "get"
    LIST_INSTANCES = "list_instances"
    HEALTH = "health"
    AUTH_STATUS = "auth_status"
    CONSUMERS_OF = "consumers_of"
    INGEST_PROFILE = "ingest_profile"
    # work the relays hand over
    HANDLE_WEBHOOKS = "handle_webhooks"
    HANDLE_EVENT = "handle_event"


LOCKED_OPS = frozenset(
    {
        TenantOp.CREATE,
        TenantOp.UPDATE,
        TenantOp.TRANSITION,
        TenantOp.UNINSTALL,
        TenantOp.UPGRADE,
        TenantOp.CONFIGURE_AUTH,
        TenantOp.OAUTH_START,
        TenantOp.OAUTH_COMPLETE,
    }
)
"""Operations that run under the tenant's lifecycle lock."""
