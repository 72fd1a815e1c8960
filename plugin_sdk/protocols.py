"""The small interfaces a ``PluginContext`` is built from.

The SDK ships in-memory implementations (``plugin_sdk.memory``, used by the test harness); the
service supplies PostgreSQL-, NATS- and litellm-backed ones. Plugins only see these Protocols, so
they never import Ray, NATS or the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from plugin_sdk.events import Event


@runtime_checkable
class KeyValueStore(Protocol):
    """JSON values by string key, scoped to one plugin instance by whoever builds it."""

    async def get(self, key: str) -> Any | None:
        """The value stored at ``key``, or ``None``."""
        ...

    async def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store a JSON-serialisable ``value``; it expires after ``ttl_s`` seconds if given."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove ``key``; whether it existed."""
        ...

    async def keys(self, prefix: str = "") -> list[str]:
        """Live keys starting with ``prefix``, sorted."""
        ...


@runtime_checkable
class EventPublisher(Protocol):
    """Puts events on the bus. ``event.id`` is the de-duplication id (JetStream Nats-Msg-Id)."""

    async def publish(self, event: Event) -> None:
        """Publish ``event``; raise ``RetryableError`` if the bus is unavailable."""
        ...


@runtime_checkable
class EffectLedger(Protocol):
    """A per-instance record of side effects done, keyed by e.g. ``<delivery id>/<step>``.

    ``claim`` must be atomic (PostgreSQL: ``INSERT ... ON CONFLICT``): of two concurrent claims of
    one key, one wins. A claim that is neither completed nor released within ``lease_s`` (its
    worker died) may be claimed again.
    """

    async def claim(self, key: str, *, lease_s: float) -> bool:
        """Claim ``key``; ``False`` if it is done or claimed by another live worker."""
        ...

    async def complete(self, key: str, result: Any = None) -> None:
        """Mark the claimed ``key`` done, with a JSON-serialisable ``result``."""
        ...

    async def release(self, key: str) -> None:
        """Drop an unfinished claim so a retry can do the effect."""
        ...

    async def result(self, key: str) -> tuple[bool, Any]:
        """``(done, result)`` of ``key``."""
        ...


@runtime_checkable
class LlmGateway(Protocol):
    """Chat completions through the platform's gateway (model, keys and budgets are the host's)."""

    @property
    def enabled(self) -> bool:
        """Whether a model is configured; plugins do their deterministic work without one."""
        ...

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_mode: bool = False,
    ) -> str:
        """The assistant's reply to ``messages`` (OpenAI-style role/content dicts)."""
        ...
