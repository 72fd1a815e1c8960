"""The review job, in a Ray worker on a ``sandbox`` node: fetch outside the sandbox, analyse inside.

The payload (stored in clear) names the pull request, its head and base commits and the
repository's clone URL, never a credential. The worker asks ``JobRun.authorization()`` for the
instance's ``Authorization`` header (read there from the credential store) and hands it to
``git fetch`` as an ``http.extraHeader`` in that one command's environment
(``sandbox.checkout``): not in a URL, not on a command line, not in the workspace (checked). Only
the checked-out tree enters the analysis sandbox (semgrep, ruff, bandit, dataflow on the lines
changed since the merge base). The result is the engine's JSON report, which
``handle_event(job.completed)`` turns into comments in the tenant host.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from plugin_sdk import PermanentError
from plugin_sdk.jobs import JobRun
from plugins.bitbucket.events import PullRequestEvent
from plugins.bitbucket.repo_settings import Effective

if TYPE_CHECKING:
    from sandbox.backends.base import SandboxBackend
    from sandbox.ray_task import ReviewRequest

REVIEW_JOB = "review"
FETCH_ATTEMPTS = 3


class ReviewJob(BaseModel):
    """The payload of one review job (no secrets: payloads are stored in clear)."""

    model_config = ConfigDict(frozen=True)

    event: PullRequestEvent
    head: str
    base: str
    clone_url: str
    settings: Effective
    full: bool = False  # "full review": post again what the ledger already holds

    def analyzers(self) -> tuple[str, ...]:
        """The analyzers switched on by the effective settings (base branch over instance)."""
        return tuple(self.settings.settings.analyzers.tools())


def clone_url_allowed(clone_url: str, api_url: str) -> bool:
    """Whether ``git`` may fetch ``clone_url`` with the instance's credential: the API's own host
    (Cloud's ``api.bitbucket.org`` serves git at ``bitbucket.org``), no user info in the URL."""
    clone, api = urlsplit(clone_url), urlsplit(api_url)
    if clone.scheme not in ("https", "http") or clone.username or clone.password:
        return False
    if clone.scheme != api.scheme and api.scheme == "https":
        return False  # never downgrade to plain HTTP
    hosts = {api.hostname}
    if api.hostname and api.hostname.startswith("api."):
        hosts.add(api.hostname.removeprefix("api."))
    return clone.hostname in hosts and (clone.port == api.port or clone.hostname != api.hostname)


def _fetch(clone_url: str, refs: list[str], dest: Path, header: SecretStr | None) -> str:
    """Fetch the first of ``refs`` the server gives (a commit, then its branch: some servers
    refuse a commit that no ref names), trying again after a transient failure; the commit."""
    from sandbox.checkout import fetch_checkout
    from sandbox.errors import SandboxError

    failures: list[str] = []
    for attempt in range(FETCH_ATTEMPTS):
        for ref in refs:
            shutil.rmtree(dest, ignore_errors=True)
            try:
                return fetch_checkout(clone_url, ref, dest, header)
            except SandboxError as err:
                failures.append(f"{ref[:40]}: {err}")
        time.sleep(2.0 * (attempt + 1))
    raise PermanentError(f"could not fetch {refs[0][:12]}: {failures[-1]}")


def _fetch_base(work: Path, scratch: Path, job: ReviewJob, header: SecretStr | None) -> str:
    """Bring the base commit into the checkout (the merge base of the diff needs it)."""
    other = scratch / "base"
    base = _fetch(job.clone_url, [job.base, f"refs/heads/{job.event.target_branch}"], other, header)
    done = subprocess.run(
        ["git", "-C", str(work), "fetch", "-q", "--no-tags", str(other), "HEAD"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise PermanentError(f"could not bring the base {job.base[:12]} in: {done.stderr[:300]}")
    return base


def drop_outward_links(root: Path) -> list[str]:
    """Remove the symlinks of a checkout that point out of it (or nowhere resolvable), so no
    analyzer reads a host file through one; the paths removed, relative to ``root``."""
    root = root.resolve()
    dropped = []
    for dirpath, dirnames, filenames in os.walk(root):  # links to directories are not entered
        here = Path(dirpath)
        if here == root and ".git" in dirnames:
            dirnames.remove(".git")
        for name in [*dirnames, *filenames]:
            path = here / name
            if not path.is_symlink():
                continue
            try:
                inside = path.resolve().is_relative_to(root)
            except (OSError, RuntimeError):  # a loop
                inside = False
            if not inside:
                path.unlink()
                dropped.append(path.relative_to(root).as_posix())
    return sorted(dropped)


def _analysis(
    tools: tuple[str, ...],
    request: ReviewRequest,
    backend: SandboxBackend,
    source_dir: Path,
    progress: Callable[[str, str], None],
) -> Any:
    """The sandboxed analysis with only the analyzers the settings switch on."""
    from sandbox.analysis.analyzers import AnalysisOptions
    from sandbox.analysis.engine import analyze
    from sandbox.analysis.models import Tool
    from sandbox.backends.base import Limits

    chosen = tuple(Tool(name) for name in tools)
    return analyze(
        source_dir,
        base=request.base,
        backend=backend,
        limits=Limits.from_settings(request.settings),
        progress=lambda message: progress("analysis", message),
        options=AnalysisOptions(tools=chosen, parallel=bool(chosen)),  # no tools: no pool of 0
    )


def _review(job: ReviewJob, header: SecretStr | None, run: JobRun) -> dict[str, Any]:
    from sandbox.ray_task import ReviewRequest, run_review

    def progress(stage: str, detail: str = "") -> None:
        run.progress(0.5 if stage != "finished" else 1.0, f"{stage} {detail}".strip())

    with tempfile.TemporaryDirectory(prefix="dcoder-bitbucket-") as tmp:
        scratch = Path(tmp)
        work = scratch / "checkout"
        run.progress(0.05, f"fetching {job.head[:12]}")
        source = f"refs/heads/{job.event.source_branch}"
        commit = _fetch(job.clone_url, [job.head, source], work, header)
        base = _fetch_base(work, scratch, job, header)
        drop_outward_links(work)  # the diff still shows them; nothing reads through them
        run.progress(0.15, f"checked out {commit[:12]}")
        request = ReviewRequest(key=job.event.review_key, source_dir=work, base=base)
        report = run_review(request, progress, partial(_analysis, job.analyzers()))
    return {"analysis": report.model_dump(mode="json"), "head": commit}


async def run_review_job(run: JobRun, api_url: str) -> dict[str, Any]:
    """Fetch the head with the instance's credential (outside the sandbox) and analyse it."""
    job = ReviewJob.model_validate(run.payload)
    if not clone_url_allowed(job.clone_url, api_url):
        raise PermanentError(f"refusing to fetch {job.clone_url}: not the server's own host")
    value = await run.authorization()
    header = SecretStr(f"Authorization: {value}") if value else None
    return await asyncio.to_thread(_review, job, header, run)
