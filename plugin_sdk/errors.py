"""The errors a plugin raises, re-exported from ``core.errors`` so authors import one place.

How the host treats them:

- ``RetryableError``, ``PluginNotReady``: redelivered later with backoff.
- ``PermanentError``, ``PluginConfigInvalid``: dead-lettered at once (retrying can't help).
- ``PluginAuthFailed``: the instance is marked as needing re-authentication.
- ``ValidationFailed``: a config or input failed validation (``errors`` lists JSON pointers).
- ``Conflict``: a hook was called in a lifecycle state that does not allow it.
- ``PluginValidationError``: the plugin itself broke the contract and was refused at load.
"""

from core.errors import (
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

__all__ = [
    "Conflict",
    "IntegrationsError",
    "PermanentError",
    "PluginAuthFailed",
    "PluginConfigInvalid",
    "PluginError",
    "PluginNotReady",
    "PluginValidationError",
    "RetryableError",
    "ValidationFailed",
]
