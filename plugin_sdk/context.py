"""``PluginContext``: everything a plugin instance may use, handed to it by its host."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

import httpx

from core.errors import PermanentError, PluginConfigInvalid
from plugin_sdk.auth import CredentialVault, MemoryCredentials
from plugin_sdk.events import Event, EventSource, subject_matches
from plugin_sdk.jobs import JobQueue, Jobs, NoJobQueue
from plugin_sdk.manifest import Manifest
from plugin_sdk.protocols import EffectLedger, EventPublisher, KeyValueStore, LlmGateway

T = TypeVar("T")

DEFAULT_EFFECT_LEASE_S = 300.0


class Secrets(Mapping[str, str]):
    """An instance's decrypted secrets; ``repr`` shows names only, so logging one leaks nothing."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def __getitem__(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            raise PluginConfigInvalid(f"secret {name!r} is not set") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Secrets(names={sorted(self._values)})"


class Effects:
    """Idempotent side effects: a redelivered event never repeats an effect already done."""

    def __init__(self, ledger: EffectLedger, *, lease_s: float = DEFAULT_EFFECT_LEASE_S) -> None:
        self.ledger = ledger
        self.lease_s = lease_s

    @staticmethod
    def key(delivery_id: str, step: str) -> str:
        """The ledger key of one step of one delivery."""
        return f"{delivery_id}/{step}"

    @asynccontextmanager
    async def once(self, delivery_id: str, step: str) -> AsyncIterator[bool]:
        """Yield ``True`` the first time (do the effect), ``False`` when already done.

        If the block raises, the claim is released so a retry does the effect.
        """
        key = self.key(delivery_id, step)
        if not await self.ledger.claim(key, lease_s=self.lease_s):
            yield False
            return
        try:
            yield True
        except BaseException:
            await self.ledger.release(key)
            raise
        await self.ledger.complete(key)

    async def run_once(self, key: str, fn: Callable[[], Awaitable[T]]) -> T | None:
        """Await ``fn()`` once per ``key`` and record its JSON result; repeats return that result.

        Returns ``None`` when another worker holds a live claim on ``key``.
        """
        if not await self.ledger.claim(key, lease_s=self.lease_s):
            _, result = await self.ledger.result(key)
            return result
        try:
            result = await fn()
        except BaseException:
            await self.ledger.release(key)
            raise
        await self.ledger.complete(key, result)
        return result


@dataclass(frozen=True, kw_only=True)
class PluginContext:
    """What one plugin instance of one tenant gets from its host (the service or the harness)."""

    manifest: Manifest
    tenant_id: str
    instance_id: str
    config: Mapping[str, Any]
    secrets: Secrets
    http: httpx.AsyncClient
    store: KeyValueStore
    publisher: EventPublisher
    ledger: EffectLedger
    llm: LlmGateway
    logger: logging.LoggerAdapter[logging.Logger] | None = None
    # the instance's encrypted credential (API token, PAT, OAuth tokens); never logged
    credentials: CredentialVault = field(default_factory=MemoryCredentials)
    job_queue: JobQueue = field(default_factory=NoJobQueue)
    effects: Effects = field(init=False)
    jobs: Jobs = field(init=False)

    def __post_init__(self) -> None:
        # frozen: the config a plugin sees can't be changed under it
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        object.__setattr__(self, "effects", Effects(self.ledger))
        object.__setattr__(self, "jobs", Jobs(self.manifest, self.job_queue))
        if self.logger is None:
            base = logging.getLogger(f"dcoder.plugins.{self.manifest.name}")
            extra = {"tenant_id": self.tenant_id, "instance_id": self.instance_id}
            object.__setattr__(self, "logger", logging.LoggerAdapter(base, extra))

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        """The instance's logger (tenant and instance ids in ``extra``)."""
        assert self.logger is not None  # set in __post_init__
        return self.logger

    async def publish(
        self,
        subject: str,
        data: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        event_id: str | None = None,
    ) -> Event:
        """Publish an event from this instance; ``subject`` must match the manifest's ``emits``."""
        if not any(subject_matches(p, subject) for p in self.manifest.events.emits):
            raise PermanentError(
                f"plugin {self.manifest.name!r} may not emit {subject!r}: "
                f"not in manifest events.emits {self.manifest.events.emits}"
            )
        event = Event(
            id=event_id or str(uuid.uuid4()),
            subject=subject,
            tenant_id=self.tenant_id,
            source=EventSource(plugin=self.manifest.name, instance_id=self.instance_id),
            data=dict(data),
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        await self.publisher.publish(event)
        return event
