"""The dcoder plugin SDK: what a plugin imports (floor 2; depends only on ``core``).

A plugin is a ``manifest.json`` plus a ``Plugin`` subclass; it gets everything through a
``PluginContext`` and is tested with ``plugin_sdk.testing.PluginHarness``.
See docs/plugin-development.md.
"""

from plugin_sdk.config import validate_config, validate_secrets
from plugin_sdk.context import Effects, PluginContext, Secrets
from plugin_sdk.errors import (
    Conflict,
    IntegrationsError,
    PermanentError,
    PluginAuthFailed,
    PluginConfigInvalid,
    PluginError,
    PluginNotReady,
    PluginValidationError,
    RetryableError,
    ValidationFailed,
)
from plugin_sdk.events import Event, EventSource, WebhookDelivery, stable_event_id
from plugin_sdk.lifecycle import InstanceState
from plugin_sdk.manifest import Capability, Manifest, WebhookScheme
from plugin_sdk.plugin import HOOKS, EmptyConfig, Health, HealthStatus, Plugin
from plugin_sdk.protocols import EffectLedger, EventPublisher, KeyValueStore, LlmGateway
from plugin_sdk.version import SDK_API_VERSION, SemVer

__all__ = [
    "HOOKS",
    "SDK_API_VERSION",
    "Capability",
    "Conflict",
    "EffectLedger",
    "Effects",
    "EmptyConfig",
    "Event",
    "EventPublisher",
    "EventSource",
    "Health",
    "HealthStatus",
    "InstanceState",
    "IntegrationsError",
    "KeyValueStore",
    "LlmGateway",
    "Manifest",
    "PermanentError",
    "Plugin",
    "PluginAuthFailed",
    "PluginConfigInvalid",
    "PluginContext",
    "PluginError",
    "PluginNotReady",
    "PluginValidationError",
    "RetryableError",
    "Secrets",
    "SemVer",
    "ValidationFailed",
    "WebhookDelivery",
    "WebhookScheme",
    "stable_event_id",
    "validate_config",
    "validate_secrets",
]
