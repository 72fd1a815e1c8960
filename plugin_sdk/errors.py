"""The errors a plugin raises, re-exported from ``core.errors`` so authors import one place.

How the host treats them:

- ``RetryableError``, ``PluginNotReady``: redelivered later with backoff.
- ``PermanentError``, ``PluginConfigInvalid``: dead-lettered at once (retrying can't help).
- ``PluginAuthFailed``: the instance is marked as needing re-authentication.
- ``ValidationFailed``: a config or input failed validation (``errors`` lists JSON pointers).
- ``Conflict``: a hook was called in a lifecycle state that does not allow it.
- ``PluginValidationError``: the plugin itself broke the contract and was refused at load.

``RemoteRateLimited`` is the base of a product's "429 beyond what the client waits for itself"
(``JiraRateLimited``, ``BitbucketRateLimited``): subclass it with your own ``code`` and pass the
class as ``HttpProduct.rate_limited`` (``plugin_sdk.http``).
"""

from __future__ import annotations

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


class RemoteRateLimited(RetryableError):
    """A remote API's 429 beyond what the client waits for itself; retry after ``retry_after_s``.

    The delivery is redelivered no sooner than ``retry_after_s`` (rounded, at least 1 s).
    """

    code = "remote-rate-limited"

    def __init__(self, detail: str, retry_after_s: float) -> None:
        super().__init__(detail, retry_after=max(1, round(retry_after_s)))
        self.retry_after_s = retry_after_s


__all__ = [
    "Conflict",
    "IntegrationsError",
    "PermanentError",
    "PluginAuthFailed",
    "PluginConfigInvalid",
    "PluginError",
    "PluginNotReady",
    "PluginValidationError",
    "RemoteRateLimited",
    "RetryableError",
    "ValidationFailed",
]
