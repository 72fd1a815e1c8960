"""Background jobs: ``ctx.jobs.submit`` queues one; the plugin's ``run_job`` runs it on Ray.

A job is work longer than a hook (a review, a history sync, a model fit). The plugin declares
its kinds in the manifest (``jobs``), submits with ``await ctx.jobs.submit(kind, payload)`` and
gets the outcome back as an event to ``handle_event``: ``job.completed`` (``event.data``:
``job_id``, ``kind``, ``key``, ``result``) or ``job.failed`` (``error`` instead of ``result``).
``JobOutcome.of(event)`` reads it. The job itself runs in a Ray worker process, not in the
tenant host, so ``run_job`` is a class method that gets a ``JobRun`` (payload, config, progress),
never a ``PluginContext``. An ``async def run_job`` also reaches its own instance: ``job.store``
(the same key-value store as ``ctx.store``), ``job.http`` (egress-guarded, the instance's auth)
and ``job.authorization()``; all are opened in the worker for the job's instance only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from core.bus import JOB_COMPLETED, JOB_FAILED
from core.errors import IntegrationsError, PermanentError, PluginAuthFailed, ValidationFailed
from plugin_sdk.events import Event
from plugin_sdk.manifest import Manifest
from plugin_sdk.protocols import KeyValueStore

__all__ = [
    "BUILTIN_KINDS",
    "JOB_COMPLETED",
    "JOB_FAILED",
    "JobOutcome",
    "JobQueue",
    "JobRun",
    "Jobs",
    "JobSubmission",
    "NoJobQueue",
    "NoJobStore",
    "REVIEW_KIND",
    "failure_of",
]

REVIEW_KIND = "sandbox.review"
BUILTIN_KINDS = frozenset({REVIEW_KIND})
"""Kinds the platform implements for every plugin: ``sandbox.review`` analyses a checkout."""
# defaults of the built-in kinds: (resources, timeout_s, max_attempts)
_BUILTIN_DEFAULTS: dict[str, tuple[dict[str, float], float, int]] = {
    REVIEW_KIND: ({"sandbox": 1}, 900.0, 2),
}

MAX_PAYLOAD_BYTES = 256 * 1024


@dataclass(frozen=True)
class JobSubmission:
    """One job as a plugin asked for it (validated against the manifest)."""

    kind: str
    payload: dict[str, Any]
    key: str | None
    resources: dict[str, float]
    timeout_s: float
    max_attempts: int


@runtime_checkable
class JobQueue(Protocol):
    """Where submitted jobs go: PostgreSQL + the job actor in the service, memory in the harness."""

    async def submit(self, job: JobSubmission) -> str:
        """Queue ``job`` (superseding a live job of the same key); return its id."""
        ...


class NoJobQueue:
    """The queue of a host that runs no jobs."""

    async def submit(self, job: JobSubmission) -> str:
        """Always refuses."""
        raise PermanentError("background jobs are not available in this host")


class Jobs:
    """``ctx.jobs``: submit background jobs of the kinds the manifest declares."""

    def __init__(self, manifest: Manifest, queue: JobQueue) -> None:
        self.manifest = manifest
        self.queue = queue

    async def submit(
        self,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        resources: Mapping[str, float] | None = None,
        timeout_s: float | None = None,
        max_attempts: int | None = None,
    ) -> str:
        """Queue a job; returns its id. A newer job with the same ``key`` cancels the older.

        ``resources`` are Ray resources (e.g. ``{"sandbox": 1}``: only sandbox workers run it);
        ``timeout_s`` bounds each attempt; ``max_attempts`` bounds retries when a worker dies.
        Unset values come from the manifest's declaration of ``kind``.
        """
        spec = next((j for j in self.manifest.jobs if j.kind == kind), None)
        if spec is None and kind not in BUILTIN_KINDS:
            declared = [j.kind for j in self.manifest.jobs]
            raise PermanentError(
                f"plugin {self.manifest.name!r} declares no job kind {kind!r} (jobs: {declared})"
            )
        body = dict(payload or {})
        _check_payload(body)
        if spec is not None:
            defaults = (spec.resources, spec.timeout_s, spec.max_attempts)
        else:
            defaults = _BUILTIN_DEFAULTS[kind]
        wanted = dict(resources if resources is not None else defaults[0])
        if any(not math.isfinite(v) or v < 0 for v in wanted.values()):
            raise ValidationFailed(f"job resources must be non-negative numbers: {wanted}")
        job = JobSubmission(
            kind=kind,
            payload=body,
            key=key,
            resources=wanted,
            timeout_s=float(timeout_s or defaults[1]),
            max_attempts=int(max_attempts or defaults[2]),
        )
        if job.timeout_s <= 0 or job.max_attempts < 1:
            raise ValidationFailed("timeout_s must be > 0 and max_attempts >= 1")
        return await self.queue.submit(job)


def _check_payload(payload: dict[str, Any]) -> None:
    try:
        size = len(json.dumps(payload).encode())
    except (TypeError, ValueError) as err:
        raise ValidationFailed(f"job payload is not JSON: {err}") from err
    if size > MAX_PAYLOAD_BYTES:
        raise ValidationFailed(f"job payload is {size} bytes; at most {MAX_PAYLOAD_BYTES}")


@dataclass(frozen=True)
class JobRun:
    """What ``Plugin.run_job`` gets in the Ray worker: the job, progress, and its own instance."""

    id: str
    kind: str
    payload: dict[str, Any]
    tenant_id: str
    instance_id: str
    config: Mapping[str, Any]
    attempt: int
    report: Callable[[float, str], None] = field(repr=False, default=lambda f, m: None)
    # the instance's Authorization header, read in the worker from the credential store (never
    # from the payload); the harness and hosts without credentials answer None
    auth: Callable[[], Awaitable[str | None]] = field(repr=False, default=lambda: _no_auth())
    store: KeyValueStore = field(repr=False, default_factory=lambda: NoJobStore())
    open_http: Callable[[], httpx.AsyncClient] = field(repr=False, default=lambda: _no_http())

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in 0..1 (visible in ``GET /v1/tenants/{t}/jobs/{id}``)."""
        self.report(fraction, message)

    async def authorization(self) -> str | None:
        """The instance's ``Authorization`` header value (OAuth tokens refreshed when due), or
        ``None`` without a credential. Use it for the call that needs it (e.g. a git fetch's
        ``http.extraHeader``); never put it in a result, a log or a workspace."""
        return await self.auth()

    @property
    def http(self) -> httpx.AsyncClient:
        """The instance's HTTP client, as ``ctx.http`` in the tenant host: egress-guarded, the
        instance's ``Authorization`` on its own hosts (refreshed when due and after a 401).
        Opened on first use in the job's event loop and closed when the job ends."""
        return self.open_http()


async def _no_auth() -> str | None:
    return None


def _no_http() -> httpx.AsyncClient:
    raise PermanentError("this host gives jobs no HTTP client")


class NoJobStore:
    """``JobRun.store`` of a host that gives jobs no store: every call refuses."""

    async def get(self, key: str) -> Any | None:
        """Refuses."""
        raise PermanentError("this host gives jobs no instance store")

    async def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Refuses."""
        raise PermanentError("this host gives jobs no instance store")

    async def delete(self, key: str) -> bool:
        """Refuses."""
        raise PermanentError("this host gives jobs no instance store")

    async def keys(self, prefix: str = "") -> list[str]:
        """Refuses."""
        raise PermanentError("this host gives jobs no instance store")


@dataclass(frozen=True)
class JobOutcome:
    """The end of a job as ``handle_event`` receives it."""

    job_id: str
    kind: str
    key: str | None
    ok: bool
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    error_code: str | None = None  # the platform error's code (``failure_of``)
    # the job failed on refused credentials (``PluginAuthFailed``: a refresh answered
    # invalid_grant, the site's 401): the host moved the instance to ``needs_reauth``
    auth_refused: bool = False

    @classmethod
    def of(cls, event: Event) -> JobOutcome | None:
        """The outcome carried by a ``job.completed`` / ``job.failed`` event, else ``None``."""
        if event.subject not in (JOB_COMPLETED, JOB_FAILED):
            return None
        data = event.data
        return cls(
            job_id=str(data["job_id"]),
            kind=str(data["kind"]),
            key=data.get("key"),
            ok=event.subject == JOB_COMPLETED,
            result=data.get("result"),
            error=data.get("error"),
            attempts=int(data.get("attempts", 1)),
            error_code=data.get("error_code"),
            auth_refused=bool(data.get("auth_refused")),
        )


def outcome_data(
    job_id: str, kind: str, key: str | None, result: Any, error: str | None, attempts: int
) -> dict[str, Any]:
    """``event.data`` of a job event (the service and the harness both build it here); a failed
    job's ``result`` is what ``failure_of`` kept of its exception."""
    data: dict[str, Any] = {"job_id": job_id, "kind": kind, "key": key, "attempts": attempts}
    if error is None:
        data["result"] = result
    else:
        data["error"] = error
        failure = result if isinstance(result, dict) else {}
        data |= {k: failure[k] for k in ("error_code", "auth_refused") if k in failure}
    return data


def failure_of(err: BaseException) -> dict[str, Any] | None:
    """What a failed job's row keeps (as its ``result``) beside the error's text: the platform
    error's code and whether the instance's credentials were refused; ``None`` for other errors."""
    if not isinstance(err, IntegrationsError):
        return None
    return {"error_code": err.code, "auth_refused": isinstance(err, PluginAuthFailed)}
