"""The error root and its families. Each error has a stable ``code`` and an HTTP status.

The ingress maps every ``IntegrationsError`` to one RFC 9457 ``application/problem+json`` body
(see ``problem()``); nothing else in the service decides HTTP statuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from pydantic import ValidationError

PROBLEM_TYPE_BASE = "https://dcoder.dev/problems/"


class IntegrationsError(Exception):
    """Root of every error the service raises on purpose."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (Ray pickles what a remote method raises); subclasses
        # have their own constructor signatures, so rebuild from the state, not from ``args``.
        return (_rebuild, (type(self), self.detail, dict(self.__dict__)))

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """This error as an RFC 9457 problem document."""
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def _rebuild(cls: type[IntegrationsError], detail: str, state: dict[str, Any]) -> Any:
    """Unpickle an ``IntegrationsError`` of any subclass without calling its ``__init__``."""
    error = cls.__new__(cls)
    Exception.__init__(error, detail)
    error.__dict__.update(state)
    return error


# --- client errors (4xx) -------------------------------------------------------------------------
class ClientError(IntegrationsError):
    """The caller sent something wrong; retrying the same request won't help."""

    code = "bad-request"
    status = 400
    title = "Bad request"


class ValidationFailed(ClientError):
    """Input did not validate; ``errors`` lists each failing field."""

    code = "validation-failed"
    status = 422
    title = "Validation failed"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])


class MalformedJson(ClientError):
    """A body that is not parseable JSON (syntax, UTF-8, NaN/Infinity, nesting too deep)."""

    code = "malformed-json"
    status = 400
    title = "Malformed JSON"


class Unauthorized(ClientError):
    code = "unauthorized"
    status = 401
    title = "Unauthorized"


class Forbidden(ClientError):
    code = "forbidden"
    status = 403
    title = "Forbidden"


class NotFound(ClientError):
    code = "not-found"
    status = 404
    title = "Not found"


class MethodNotAllowed(ClientError):
    code = "method-not-allowed"
    status = 405
    title = "Method not allowed"


class Conflict(ClientError):
    code = "conflict"
    status = 409
    title = "Conflict"


class PayloadTooLarge(ClientError):
    code = "payload-too-large"
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(ClientError):
    code = "unsupported-media-type"
    status = 415
    title = "Unsupported media type"


class SignatureInvalid(ClientError):
    """A webhook's signature, timestamp or token did not verify."""

    code = "signature-invalid"
    status = 401
    title = "Signature invalid"


class RateLimited(ClientError):
    code = "rate-limited"
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail, retry_after=retry_after_s)
        self.retry_after_s = retry_after_s


# --- plugin errors -------------------------------------------------------------------------------
class PluginError(IntegrationsError):
    """A plugin could not do its work."""

    code = "plugin-error"
    status = 502
    title = "Plugin error"


class PluginNotReady(PluginError):
    """Transient: the plugin or its remote system is not ready; retry later."""

    code = "plugin-not-ready"
    status = 503
    title = "Plugin not ready"


class PluginAuthFailed(PluginError):
    """The remote system refused the credentials: the instance needs re-authentication."""

    code = "plugin-auth-failed"
    status = 502
    title = "Plugin needs re-authentication"


class PluginConfigInvalid(PluginError):
    code = "plugin-config-invalid"
    status = 422
    title = "Plugin configuration invalid"


class PluginValidationError(PluginError):
    """A plugin does not match the contract and was refused at load."""

    code = "plugin-invalid"
    status = 422
    title = "Plugin refused"

    def __init__(self, plugin: str, why: str) -> None:
        super().__init__(f"plugin {plugin!r} refused: {why}", plugin=plugin)
        self.plugin = plugin
        self.why = why


# --- bus errors ----------------------------------------------------------------------------------
class BusError(IntegrationsError):
    code = "bus-error"
    status = 503
    title = "Event bus unavailable"


class RetryableError(IntegrationsError):
    """Processing failed in a way that may succeed later (redeliver with backoff)."""

    code = "retryable"
    status = 503
    title = "Temporarily unavailable"


class CircuitOpen(RetryableError):
    """An endpoint's circuit breaker is open: calls fail fast until its cool-down ends."""

    code = "circuit-open"
    title = "Endpoint circuit open"

    def __init__(self, endpoint: str, retry_after_s: float) -> None:
        super().__init__(
            f"circuit of {endpoint} is open; retry in {retry_after_s:.1f} s",
            endpoint=endpoint,
            retry_after=max(1, int(retry_after_s + 0.999)),
        )
        self.endpoint = endpoint
        self.retry_after_s = retry_after_s


class PermanentError(IntegrationsError):
    """Processing can never succeed for this input (dead-letter at once)."""

    code = "permanent"
    status = 422
    title = "Cannot be processed"


class DependencyUnavailable(IntegrationsError):
    """A backing service (NATS, PostgreSQL, Ray) is not reachable."""

    code = "dependency-unavailable"
    status = 503
    title = "Dependency unavailable"


# --- secrets -------------------------------------------------------------------------------------
class SecretDecryptError(IntegrationsError):
    """A stored secret did not decrypt: tampered, moved to another row, or its key is gone."""

    code = "secret-decrypt-failed"
    status = 500
    title = "Secret could not be decrypted"


class SecretKeyError(IntegrationsError):
    """Key material is missing, malformed, or managed elsewhere (environment)."""

    code = "secret-key-invalid"
    status = 500
    title = "Secret key problem"


# --- configuration -------------------------------------------------------------------------------
class SettingsError(IntegrationsError):
    """Settings from the environment did not validate; the message names each variable."""

    code = "settings-invalid"
    status = 500
    title = "Settings invalid"

    @classmethod
    def from_validation(cls, err: ValidationError) -> SettingsError:
        """Build a readable message: one line per bad environment variable."""
        prefix = _ENV_PREFIX_OF_MODEL.get(err.title, "DCODER_")
        lines = []
        for item in err.errors():
            field = "_".join(str(part) for part in item["loc"]).upper()
            value = item.get("input")
            shown = "" if isinstance(value, dict) else f" (got {value!r})"
            lines.append(f"  {prefix}{field}: {item['msg']}{shown}")
        return cls("invalid settings:\n" + "\n".join(lines))


_ENV_PREFIX_OF_MODEL = {
    "NatsSettings": "DCODER_NATS_",
    "DatabaseSettings": "DCODER_DATABASE_",
    "RaySettings": "DCODER_RAY_",
    "HttpSettings": "DCODER_HTTP_",
    "FlagsmithSettings": "DCODER_FLAGSMITH_",
    "LlmSettings": "DCODER_LLM_",
    "SandboxSettings": "DCODER_SANDBOX_",
    "WebhookSettings": "DCODER_WEBHOOKS_",
    "EgressSettings": "DCODER_EGRESS_",
    "OAuthSettings": "DCODER_OAUTH_",
}
