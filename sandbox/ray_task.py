"""Reviews as background jobs: the built-in job kind ``sandbox.review`` runs here.

A plugin (the future review agent) submits ``ctx.jobs.submit("sandbox.review", {...},
key=<pull request>, resources={"sandbox": 1})``; the job actor (``actors/jobs.py``) runs it as a
Ray task on a ``sandbox`` worker (cluster.yaml's sandbox workers autoscale on that resource),
cancels an older review of the same key and reports progress; ``review_job`` is what that task
calls. ``run_review`` is the review itself: fetch (if asked), choose the sandbox backend, run the
analysis, reporting each stage.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr

from core.settings import SandboxSettings
from plugin_sdk.jobs import JobRun
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


def run_review(
    request: ReviewRequest, progress: Callable[[str, str], None], job: Job = analysis_job
) -> Any:
    """Fetch (if asked), choose the sandbox backend, run ``job``; report every stage."""
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


# stage -> progress reported to the job (the analysis itself reports no fraction)
_STAGE_PROGRESS = {"checkout": 0.05, "checked-out": 0.15, "sandbox": 0.2, "finished": 1.0}


def review_job(run: JobRun) -> dict[str, Any]:
    """The ``sandbox.review`` job: ``payload`` holds ``source_dir`` or ``repo_url`` + ``ref``.

    Credentials never travel in a payload (payloads are stored in clear): only public
    repositories or local checkouts can be reviewed this way for now.
    """
    names = ("source_dir", "repo_url", "ref", "base")
    fields = {k: run.payload[k] for k in names if k in run.payload}
    request = ReviewRequest(key=str(run.payload.get("key") or run.id), **fields)
    stages: dict[str, str] = {}

    def progress(stage: str, detail: str = "") -> None:
        stages[stage] = detail
        run.progress(_STAGE_PROGRESS.get(stage, 0.5), f"{stage} {detail}".strip())

    report = run_review(request, progress)
    return {
        "complete": report.complete,
        "findings": [f.model_dump(mode="json") for f in report.findings],
        "backend": stages.get("sandbox"),
    }
