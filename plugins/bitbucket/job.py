"""The review job, in a Ray worker on a ``sandbox`` node: fetch outside the sandbox, analyse inside.

The payload (stored in clear) names the pull request, its head and base commits and the
repository's clone URL, never a credential. The worker asks ``JobRun.authorization()`` for the
instance's ``Authorization`` header (read there from the credential store) and hands it to
``git fetch`` as an ``http.extraHeader`` in that one command's environment
(``sandbox.checkout``): not in a URL, not on a command line, not in the workspace (checked). Only
the checked-out tree enters the analysis sandbox (semgrep, ruff, bandit, dataflow on the lines
changed since the merge base). The result is the engine's JSON report, which
``handle_event(job.completed)`` turns into comments in the tenant host.

The fetch passes the egress guard as the instance's HTTP client does (``FetchGuard``): the clone
URL's host must be the server's own, permitted by the manifest or the instance's config, and
resolve only to addresses the guard accepts (``DCODER_EGRESS_ALLOW`` for exceptions); ``git`` is
then pinned to the checked address (``http.curloptResolve``), follows no redirect and speaks only
HTTP(S). The report travels in the job's result (the job table, the ``job.completed`` event on
NATS), so its size is bounded: a report over ``MAX_REPORT_BYTES`` is kept whole in the instance's
store (``JobRun.store``, for ``REPORT_TTL_S``) and the result carries its key
(``ANALYSIS_KEY``); only a host that gives jobs no store gets it bounded (``bound_report``: the
least severe findings left out, the report says how many and the summary comment states it).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from core.egress import AllowList, EgressRefused
from core.egress_transport import Destination, HostPermissions, checked_destination
from core.settings import load_settings
from plugin_sdk import PermanentError
from plugin_sdk.jobs import JobRun
from plugins.bitbucket.events import PullRequestEvent
from plugins.bitbucket.findings import TRIMMED
from plugins.bitbucket.repo_settings import Effective

if TYPE_CHECKING:
    from sandbox.backends.base import SandboxBackend
    from sandbox.ray_task import ReviewRequest

REVIEW_JOB = "review"
FETCH_ATTEMPTS = 3
# the report's bound in the job's result: the result (with the job's payload, at most 256 KiB)
# and its event envelope stay below NATS's default max_payload of 1 MiB
MAX_REPORT_BYTES = 512 * 1024
ANALYSIS_KEY = "analysis_key"  # the result's reference to a report kept in the instance's store
REPORT_PREFIX = "report:"  # + the job's id: the store key of a report too large for the result
REPORT_TTL_S = 7 * 24 * 3600.0  # long enough for the apply's retries and a replay of dead letters
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


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


@dataclass(frozen=True)
class FetchGuard:
    """The egress guard's rules for the job's ``git fetch`` (the instance's HTTP client's rules)."""

    allow: AllowList
    permitted: HostPermissions

    @classmethod
    def of(cls, permissions: Iterable[str], config: Mapping[str, object]) -> FetchGuard:
        """The manifest's ``network:`` permissions and the config's URLs, and the operator's
        exceptions (``DCODER_EGRESS_ALLOW``) as this worker's environment sets them."""
        allow = AllowList.parse(load_settings().egress.allow.split(","))
        return cls(allow, HostPermissions.build(permissions, config))

    async def git_config(self, clone_url: str) -> dict[str, str]:
        """The fetch's git settings: pinned to the checked address, no redirects, HTTP(S) only;
        ``PermanentError`` (``EgressRefused``) when the guard refuses the URL."""
        try:
            destination = await checked_destination(clone_url, self.allow, self.permitted)
        except EgressRefused as err:
            raise type(err)(f"refusing to fetch {clone_url}: {err.detail}") from err
        return pinned_git_config(destination)


def pinned_git_config(destination: Destination) -> dict[str, str]:
    """Git settings that connect only to ``destination``'s checked address."""
    return {
        "http.curloptResolve": destination.curl_resolve(),
        "http.followRedirects": "false",
        "protocol.allow": "never",
        "protocol.http.allow": "always",
        "protocol.https.allow": "always",
    }


def _fetch(
    clone_url: str, refs: list[str], dest: Path, header: SecretStr | None, config: dict[str, str]
) -> str:
    """Fetch the first of ``refs`` the server gives (a commit, then its branch: some servers
    refuse a commit that no ref names), trying again after a transient failure; the commit."""
    from sandbox.checkout import fetch_checkout
    from sandbox.errors import SandboxError

    failures: list[str] = []
    for attempt in range(FETCH_ATTEMPTS):
        for ref in refs:
            shutil.rmtree(dest, ignore_errors=True)
            try:
                return fetch_checkout(clone_url, ref, dest, header, config=config)
            except SandboxError as err:
                failures.append(f"{ref[:40]}: {err}")
        time.sleep(2.0 * (attempt + 1))
    raise PermanentError(f"could not fetch {refs[0][:12]}: {failures[-1]}")


def _fetch_base(
    work: Path, scratch: Path, job: ReviewJob, header: SecretStr | None, config: dict[str, str]
) -> str:
    """Bring the base commit into the checkout (the merge base of the diff needs it)."""
    other = scratch / "base"
    refs = [job.base, f"refs/heads/{job.event.target_branch}"]
    base = _fetch(job.clone_url, refs, other, header, config)
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


def bound_report(report: dict[str, Any], max_bytes: int = MAX_REPORT_BYTES) -> dict[str, Any]:
    """``report`` when its JSON fits ``max_bytes``; else the most severe findings that fit (and
    their rules), with ``trimmed``: how many were found, kept and left out by severity."""
    size = len(json.dumps(report).encode())
    if size <= max_bytes:
        return report
    findings = sorted(
        report.get("findings") or [],
        key=lambda f: (_SEVERITY_RANK.get(str(f.get("severity")), 3), f.get("path", "")),
    )
    rest = {k: v for k, v in report.items() if k not in ("findings", "rules")}
    used = len(json.dumps(rest).encode()) + 200  # the trimmed note and the brackets
    rules = {f"{r.get('tool')}/{r.get('id')}": r for r in report.get("rules") or []}
    kept: list[dict[str, Any]] = []
    kept_rules: dict[str, Any] = {}
    for finding in findings:
        key = f"{finding.get('tool')}/{finding.get('rule_id')}"
        rule = rules.get(key) if key not in kept_rules else None
        cost = len(json.dumps(finding).encode()) + 2
        cost += len(json.dumps(rule).encode()) + 2 if rule else 0
        if used + cost > max_bytes:
            break
        used += cost
        kept.append(finding)
        if rule:
            kept_rules[key] = rule
    dropped: dict[str, int] = {}
    for finding in findings[len(kept) :]:
        severity = str(finding.get("severity"))
        dropped[severity] = dropped.get(severity, 0) + 1
    note = {"found": len(findings), "kept": len(kept), "dropped": dropped, "bytes": size,
            "max_bytes": max_bytes}  # fmt: skip
    return rest | {"findings": kept, "rules": list(kept_rules.values()), TRIMMED: note}


def _review(
    job: ReviewJob, header: SecretStr | None, config: dict[str, str], run: JobRun
) -> dict[str, Any]:
    from sandbox.ray_task import ReviewRequest, run_review

    def progress(stage: str, detail: str = "") -> None:
        run.progress(0.5 if stage != "finished" else 1.0, f"{stage} {detail}".strip())

    with tempfile.TemporaryDirectory(prefix="dcoder-bitbucket-") as tmp:
        scratch = Path(tmp)
        work = scratch / "checkout"
        run.progress(0.05, f"fetching {job.head[:12]}")
        source = f"refs/heads/{job.event.source_branch}"
        commit = _fetch(job.clone_url, [job.head, source], work, header, config)
        base = _fetch_base(work, scratch, job, header, config)
        drop_outward_links(work)  # the diff still shows them; nothing reads through them
        run.progress(0.15, f"checked out {commit[:12]}")
        request = ReviewRequest(key=job.event.review_key, source_dir=work, base=base)
        report = run_review(request, progress, partial(_analysis, job.analyzers()))
    return {"analysis": report.model_dump(mode="json"), "head": commit}


async def deliverable(run: JobRun, report: dict[str, Any]) -> dict[str, Any]:
    """The report as the job's result carries it: whole when it fits ``MAX_REPORT_BYTES``; else
    kept in the instance's store with its key in the result, or bounded when the host gives jobs
    no store."""
    if len(json.dumps(report).encode()) <= MAX_REPORT_BYTES:
        return {"analysis": report}
    key = REPORT_PREFIX + run.id
    try:
        await run.store.set(key, report, ttl_s=REPORT_TTL_S)
    except PermanentError:  # a host without a store for jobs
        return {"analysis": bound_report(report)}
    return {ANALYSIS_KEY: key}


async def run_review_job(run: JobRun, api_url: str, guard: FetchGuard) -> dict[str, Any]:
    """Fetch the head with the instance's credential (outside the sandbox) and analyse it."""
    job = ReviewJob.model_validate(run.payload)
    if not clone_url_allowed(job.clone_url, api_url):
        raise PermanentError(f"refusing to fetch {job.clone_url}: not the server's own host")
    config = await guard.git_config(job.clone_url)  # before the credential is read
    value = await run.authorization()
    header = SecretStr(f"Authorization: {value}") if value else None
    done = await asyncio.to_thread(_review, job, header, config, run)
    return {"head": done["head"]} | await deliverable(run, done["analysis"])
