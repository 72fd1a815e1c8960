"""In-memory implementations of the context Protocols (for the test harness and local runs)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import PluginNotReady
from plugin_sdk.events import Event
from plugin_sdk.jobs import JobSubmission


def _json_copy(value: Any) -> Any:
    # Round-trip through JSON so a test fails here, like it would against the real store.
    return json.loads(json.dumps(value))


class MemoryKeyValueStore:
    """A ``KeyValueStore`` in a dict, with expiry."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._data: dict[str, tuple[Any, float | None]] = {}

    def _live(self, key: str) -> bool:
        item = self._data.get(key)
        if item is None:
            return False
        if item[1] is not None and item[1] <= self._clock():
            del self._data[key]
            return False
        return True

    async def get(self, key: str) -> Any | None:
        """The value at ``key`` or ``None``."""
        return _json_copy(self._data[key][0]) if self._live(key) else None

    async def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store ``value`` (JSON-serialisable) at ``key``."""
        expires = None if ttl_s is None else self._clock() + ttl_s
        self._data[key] = (_json_copy(value), expires)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; whether it was there."""
        existed = self._live(key)
        self._data.pop(key, None)
        return existed

    async def keys(self, prefix: str = "") -> list[str]:
        """Live keys starting with ``prefix``."""
        return sorted(k for k in list(self._data) if k.startswith(prefix) and self._live(k))


class MemoryEventPublisher:
    """An ``EventPublisher`` that records events, de-duplicating by id like JetStream does."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.attempts = 0

    async def publish(self, event: Event) -> None:
        """Record ``event`` unless an event with its id was already published."""
        self.attempts += 1
        if all(e.id != event.id for e in self.events):
            self.events.append(event)


@dataclass
class _Effect:
    done: bool
    claimed_at: float
    result: Any = None


class MemoryEffectLedger:
    """An ``EffectLedger`` in a dict (atomic within one event loop)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.effects: dict[str, _Effect] = {}

    async def claim(self, key: str, *, lease_s: float) -> bool:
        """Claim ``key`` unless done or claimed less than ``lease_s`` ago."""
        now = self._clock()
        item = self.effects.get(key)
        if item is not None and (item.done or now - item.claimed_at < lease_s):
            return False
        self.effects[key] = _Effect(done=False, claimed_at=now)
        return True

    async def complete(self, key: str, result: Any = None) -> None:
        """Mark ``key`` done with ``result``."""
        self.effects[key] = _Effect(done=True, claimed_at=self._clock(), result=_json_copy(result))

    async def release(self, key: str) -> None:
        """Forget an unfinished claim."""
        item = self.effects.get(key)
        if item is not None and not item.done:
            del self.effects[key]

    async def result(self, key: str) -> tuple[bool, Any]:
        """``(done, result)`` of ``key``."""
        item = self.effects.get(key)
        return (True, _json_copy(item.result)) if item and item.done else (False, None)

    def done_keys(self) -> list[str]:
        """Keys of completed effects."""
        return sorted(k for k, v in self.effects.items() if v.done)


@dataclass
class MemoryJob:
    """One job submitted in the harness, with the state the service would show."""

    id: str
    submission: JobSubmission
    status: str = "queued"
    progress: float = 0.0
    result: Any = None
    error: str | None = None


class MemoryJobQueue:
    """A ``JobQueue`` in a list; same-key submissions supersede queued ones, as in the service."""

    def __init__(self) -> None:
        self.jobs: list[MemoryJob] = []

    async def submit(self, job: JobSubmission) -> str:
        """Record ``job`` (superseding a queued job of the same key); return its id."""
        if job.key is not None:
            for older in self.jobs:
                if older.submission.key == job.key and older.status == "queued":
                    older.status = "superseded"
        item = MemoryJob(id=f"job-{len(self.jobs) + 1}", submission=job)
        self.jobs.append(item)
        return item.id

    def queued(self) -> list[MemoryJob]:
        """Jobs still to run, oldest first."""
        return [j for j in self.jobs if j.status == "queued"]


class DisabledLlm:
    """The ``LlmGateway`` of a host with no model configured."""

    enabled = False

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_mode: bool = False,
    ) -> str:
        """Always raises ``PluginNotReady``: no model is configured."""
        raise PluginNotReady("no LLM model is configured")


@dataclass
class ScriptedLlm:
    """An ``LlmGateway`` answering from a list of replies, recording the prompts it got."""

    replies: list[str]
    prompts: list[list[dict[str, str]]] = field(default_factory=list)
    enabled: bool = True

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_mode: bool = False,
    ) -> str:
        """The next scripted reply."""
        self.prompts.append([dict(m) for m in messages])
        if not self.replies:
            raise PluginNotReady("ScriptedLlm has no replies left")
        return self.replies.pop(0)
