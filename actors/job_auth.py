"""A job's way to its instance's credential: read in the worker, never carried by the job.

Job payloads are stored in clear and a job runs in a Ray worker without a ``PluginContext``, so
a job that must act as its instance (fetch a private repository) asks ``JobRun.authorization()``.
That call opens the credential store here, in the worker, for this one instance (the tenant and
instance ids come from the job row, not from the plugin), decrypts the credential with the
service's secrets key and returns the ``Authorization`` header value, refreshing an OAuth token
through the egress guard when it is due (the same ``TokenManager`` the tenant host uses). The
connection is closed again before the call returns; nothing is cached between jobs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from core.credentials import CredentialStore
from core.crypto import SecretBox
from core.db import Database
from core.egress import AllowList
from core.egress_transport import GuardedHTTPTransport
from core.endpoints import database_url
from core.keys import secrets_keys
from core.oauth import TokenEndpoint, TokenManager
from core.settings import load_settings


def instance_authorization(
    tenant_id: str,
    instance_id: str,
    endpoints: Callable[[], dict[str, TokenEndpoint]],
) -> Callable[[], Awaitable[str | None]]:
    """``JobRun.auth`` for one job: each call reads (and if due refreshes) the credential."""

    async def authorization() -> str | None:
        settings = load_settings()
        db = Database(database_url(settings), settings.database)
        allow = AllowList.parse(settings.egress.allow.split(","))
        http = httpx.AsyncClient(
            transport=GuardedHTTPTransport(allow), trust_env=False, timeout=30.0
        )
        try:
            store = CredentialStore(db, SecretBox(secrets_keys(settings, create=False)))
            manager = TokenManager(
                store, tenant_id, instance_id, endpoints(), http,
                refresh_before_s=settings.oauth.refresh_before_s,
            )  # fmt: skip
            return await manager.authorization()
        finally:
            await http.aclose()
            await db.close()

    return authorization
