"""Feature flags through the official Flagsmith SDK: which plugin is enabled for which tenant.

The tenant id is the Flagsmith identity, so per-tenant identity overrides and segments apply.
Three modes, chosen by ``FlagsmithSettings``:

- no environment key: offline, from the environment document ``offline_document``;
- a key: remote evaluation (one HTTP call to ``<api_url>/identities/`` per check);
- a ``ser.`` key with ``local_evaluation``: the SDK polls the environment document and evaluates
  in-process.

Flags switch plugins OFF: a plugin whose flag is not in the environment is enabled, so a new
plugin works without a flag and without a restart; a flag that is present decides (``enabled:
false`` for everybody, an identity override for one tenant). When the API cannot be reached, the
last answer seen for the same flag and tenant is kept; without one, disabled (an outage must not
switch on a plugin that was turned off).
"""

from __future__ import annotations

import asyncio
import logging
import threading

from flagsmith import Flagsmith
from flagsmith.exceptions import FlagsmithAPIError, FlagsmithClientError
from flagsmith.offline_handlers import LocalFileHandler
from urllib3 import Retry

from core.errors import SettingsError
from core.settings import FlagsmithSettings

log = logging.getLogger(__name__)

# A flag check sits on request paths: bound it well below the SDK defaults (10 s, 3 retries).
_REQUEST_TIMEOUT_S = 3
_RETRIES = Retry(total=1, backoff_factor=0.1)


def plugin_feature_name(plugin_name: str) -> str:
    """The Flagsmith feature that switches a plugin: ``plugin_<name, dashes as underscores>``."""
    return "plugin_" + plugin_name.replace("-", "_")


class FeatureFlags:
    """Flag checks for tenants; blocking calls, with async wrappers that run them in a thread."""

    def __init__(self, settings: FlagsmithSettings) -> None:
        self.settings = settings
        self.mode = _mode(settings)
        self._client = _build_client(settings, self.mode)
        self._last_known: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()

    def is_enabled(self, feature: str, identity: str) -> bool:
        """Whether ``feature`` is on for ``identity``; a feature the environment lacks is on."""
        try:
            flags = self._client.get_identity_flags(identity)
        except FlagsmithAPIError as err:
            with self._lock:
                kept = self._last_known.get((feature, identity), False)
            log.warning(
                "flagsmith unreachable (%s); %s for %s stays %s", err, feature, identity, kept
            )
            return kept
        try:
            enabled = bool(flags.is_feature_enabled(feature))
        except FlagsmithClientError:
            enabled = True  # not in the environment: nothing switches it off
        with self._lock:
            self._last_known[(feature, identity)] = enabled
        return enabled

    def plugin_enabled(self, plugin_name: str, tenant_id: str) -> bool:
        """Whether the plugin may run for the tenant (flag ``plugin_<name>``, identity = tenant)."""
        return self.is_enabled(plugin_feature_name(plugin_name), tenant_id)

    def close(self) -> None:
        """Stop the SDK's polling thread (local evaluation); other modes hold no thread."""
        # The SDK stops it only in __del__; this attribute exists only in local evaluation.
        poller = getattr(self._client, "environment_data_polling_manager_thread", None)
        if poller is not None:
            poller.stop()

    async def is_enabled_async(self, feature: str, identity: str) -> bool:
        """``is_enabled`` off the event loop (remote evaluation does blocking HTTP)."""
        return await asyncio.to_thread(self.is_enabled, feature, identity)

    async def plugin_enabled_async(self, plugin_name: str, tenant_id: str) -> bool:
        """``plugin_enabled`` off the event loop (remote evaluation does blocking HTTP)."""
        return await asyncio.to_thread(self.plugin_enabled, plugin_name, tenant_id)


def _mode(settings: FlagsmithSettings) -> str:
    if settings.environment_key is None:
        return "offline"
    return "local" if settings.local_evaluation else "remote"


def _build_client(settings: FlagsmithSettings, mode: str) -> Flagsmith:
    key = settings.environment_key
    if key is None:
        return Flagsmith(offline_mode=True, offline_handler=_offline_handler(settings))
    try:
        return Flagsmith(
            environment_key=key.get_secret_value(),
            api_url=settings.api_url,
            enable_local_evaluation=mode == "local",
            request_timeout_seconds=_REQUEST_TIMEOUT_S,
            retries=_RETRIES,
        )
    except ValueError as err:  # e.g. local evaluation without a server-side (ser.) key
        raise SettingsError(f"DCODER_FLAGSMITH_*: {err}") from err


def _offline_handler(settings: FlagsmithSettings) -> LocalFileHandler:
    path = settings.offline_document
    try:
        return LocalFileHandler(str(path))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SettingsError(
            f"DCODER_FLAGSMITH_OFFLINE_DOCUMENT: {path} is not a readable Flagsmith "
            f"environment document ({err!r})"
        ) from err
