"""Reviews as Ray tasks: on a ``sandbox`` worker, cancellable, reporting progress.

``ReviewCoordinator`` (one named actor; its name is ``actors.naming.REVIEW_COORDINATOR``) owns
every review task it starts, so it can ``ray.cancel`` them: a newer commit of the same pull
request (same ``key``) supersedes, and cancels, the older review. Tasks ask for the custom
resource ``sandbox`` (cluster.yaml's sandbox workers autoscale on it) and report each stage
back to the coordinator.
"""

from __future__ import annotations

import asyncio
import bisect
import tempfile
import time
import uuid
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import ray
from pydantic import BaseModel, Field, SecretStr

from core.settings import SandboxSettings
from sandbox.backends import select_backend
from sandbox.backends.base import SandboxBackend
from sandbox.checkout import fetch_checkout
from sandbox.errors import SandboxError


class ReviewRequest(BaseModel):
    """What to review: a local tree, or a repository ref fetched on the sandbox worker."""

    key: str = Field(description="identity of the pull request; a newer request supersedes")
    source_dir: Path | None = Field(default=None, description="local checkout to analyse")
    repo_url: str | None = Field(default=None, description="git URL to fetch (no credentials)")
    ref: str | None = Field(default=None, description="ref or commit to fetch")
    auth_header: SecretStr | None = Field(default=None, description="e.g. Authorization: Bearer …")
    base: str | None = Field(default=None, description="git base; only changes since it count")
    settings: SandboxSettings = Field(default_factory=SandboxSettings)


class ReviewState(StrEnum):
    """Life of one review."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class ReviewStatus(BaseModel):
    """What the coordinator knows about one review."""

    review_id: str
    key: str
    state: ReviewState = ReviewState.QUEUED
    stages: list[tuple[float, str, str]] = Field(
        default_factory=list, description="(t, stage, detail)"
    )
    backend: str | None = None
    error: str | None = None


KEEP_REVIEWS = 1000  # finished reviews whose status and result the coordinator keeps
_ACTIVE = (ReviewState.QUEUED, ReviewState.RUNNING)

# A review job: (request, chosen backend, tree on the worker, progress) -> a picklable result.
Job = Callable[[ReviewRequest, SandboxBackend, Path, Callable[[str, str], None]], Any]


def analysis_job(
    request: ReviewRequest,
    backend: SandboxBackend,
    source_dir: Path,
    progress: Callable[[str, str], None],
) -> Any:
    """The review itself: the sandboxed analysis (semgrep, ruff, bandit) of the tree."""
    from sandbox.analysis.engine import analyze
    from sandbox.backends.base import Limits

    return analyze(
        source_dir,
        base=request.base,
        backend=backend,
        limits=Limits.from_settings(request.settings),
        progress=lambda message: progress("analysis", message),
    )


@ray.remote(resources={"sandbox": 1}, num_cpus=1, max_retries=0)
def review_task(request: ReviewRequest, review_id: str, coordinator: Any, job: Job) -> Any:
    """Fetch (if asked), choose the sandbox backend, run ``job``; report every stage."""

    def progress(stage: str, detail: str = "") -> None:
        # Stamped here: an async actor may run these calls out of order.
        coordinator.progress.remote(review_id, stage, detail, time.time())

    with tempfile.TemporaryDirectory(prefix="dcoder-review-") as scratch:
        source = request.source_dir
        if request.repo_url:
            progress("checkout", request.ref or "")
            source = Path(scratch) / "checkout"
            commit = fetch_checkout(
                request.repo_url, request.ref or "HEAD", source, request.auth_header
            )
            progress("checked-out", commit)
        if source is None:
            raise SandboxError("review request names neither source_dir nor repo_url")
        backend = select_backend(request.settings)
        progress("sandbox", backend.name)
        result = job(request, backend, source, progress)
        progress("finished", backend.name)
        return result


@ray.remote(num_cpus=0, max_restarts=-1)
class ReviewCoordinator:
    """Starts reviews, supersedes older ones of the same key, keeps their progress."""

    def __init__(self) -> None:
        self._latest: dict[str, str] = {}
        self._refs: dict[str, ray.ObjectRef] = {}
        self._status: dict[str, ReviewStatus] = {}
        self._watchers: set[asyncio.Task[None]] = set()

    async def submit(self, request: ReviewRequest, job: Job = analysis_job) -> str:
        """Start a review; cancel the running one of the same key. Returns the review id."""
        review_id = uuid.uuid4().hex[:16]
        older = self._latest.get(request.key)
        if older and older in self._status and self._status[older].state in _ACTIVE:
            self._status[older].state = ReviewState.SUPERSEDED
            ray.cancel(self._refs[older], recursive=True)
        self._latest[request.key] = review_id
        self._forget_oldest()
        self._status[review_id] = ReviewStatus(review_id=review_id, key=request.key)
        me = ray.get_runtime_context().current_actor
        ref = review_task.remote(request, review_id, me, job)
        self._refs[review_id] = ref
        watcher = asyncio.get_running_loop().create_task(self._watch(review_id, ref))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        return review_id

    def _forget_oldest(self) -> None:
        """Bound the memory of a long-lived coordinator: drop the oldest finished reviews."""
        finished = [rid for rid, st in self._status.items() if st.state not in _ACTIVE]
        for review_id in finished[: max(0, len(self._status) - KEEP_REVIEWS)]:
            del self._status[review_id]
            self._refs.pop(review_id, None)

    async def _watch(self, review_id: str, ref: ray.ObjectRef) -> None:
        status = self._status[review_id]
        try:
            await ref
        except (ray.exceptions.TaskCancelledError, asyncio.CancelledError):
            status.state = ReviewState.SUPERSEDED
        except Exception as err:  # noqa: BLE001 - recorded for the caller, who decides
            status.state, status.error = ReviewState.FAILED, f"{type(err).__name__}: {err}"
        else:
            status.state = ReviewState.DONE

    def progress(
        self, review_id: str, stage: str, detail: str = "", at: float | None = None
    ) -> None:
        """Called by a review task at each stage (``at``: when it happened, in the task)."""
        status = self._status.get(review_id)
        if status is None:
            return
        if status.state is ReviewState.QUEUED:
            status.state = ReviewState.RUNNING
        if stage == "sandbox":
            status.backend = detail
        bisect.insort(status.stages, (at if at is not None else time.time(), stage, detail))

    def status(self, review_id: str) -> ReviewStatus:
        """Progress and state of one review."""
        return self._status[review_id]

    def latest(self, key: str) -> str | None:
        """Id of the newest review of a pull request."""
        return self._latest.get(key)

    async def result(self, review_id: str, timeout_s: float) -> Any:
        """The review's result; raises when it failed, was superseded or took too long."""
        return await asyncio.wait_for(self._refs[review_id], timeout=timeout_s)


def coordinator(name: str, namespace: str | None = None) -> Any:
    """The named coordinator, created on first use (``name`` from actors.naming)."""
    return ReviewCoordinator.options(  # type: ignore[attr-defined]
        name=name, namespace=namespace, get_if_exists=True, lifetime="detached"
    ).remote()
