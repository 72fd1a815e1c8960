"""A review job that failed (``job.failed``), said once on its pull request without secrets.

The job's error text comes from the worker (an exception's message, ``git``'s stderr): it is cut
to one short line and anything that looks like a credential is blanked before it is posted.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from plugin_sdk.jobs import JobOutcome
from plugins.bitbucket.events import RepoRef
from plugins.bitbucket.render import FOOTER

if TYPE_CHECKING:
    from plugins.bitbucket.plugin import BitbucketPlugin

MAX_REASON = 300
_KEY = re.compile(r"^(cloud|dc):([^/#\s]+)/([^/#\s]+)#(\d+)$")
_SECRETS = (
    re.compile(r"(?i)(authorization|proxy-authorization)\s*[:=]\s*\S+(\s+\S+)?"),
    re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)\b(password|passwd|secret|token|api[_-]?key)\s*[:=]\s*\S+"),
    re.compile(r"(?<=://)[^/@\s]+@"),  # user info in a URL
)


def pull_request_of(key: str | None) -> tuple[str, RepoRef, int] | None:
    """``(flavour, repository, id)`` of a review job's key (``cloud:acme/shop#3``)."""
    found = _KEY.match(key or "")
    if found is None:
        return None
    flavour, owner, slug, pr_id = found.groups()
    return flavour, RepoRef(owner=owner, slug=slug), int(pr_id)


def public_reason(error: str | None) -> str:
    """The error's first line, short, with anything credential-like replaced by ``***``."""
    lines = (error or "").strip().splitlines()
    line = lines[0] if lines else "unknown error"
    for pattern in _SECRETS:
        line = pattern.sub(_blank, line)
    return line if len(line) <= MAX_REASON else line[: MAX_REASON - 1] + "…"


def _blank(found: re.Match[str]) -> str:
    text = found.group(0)
    if text.endswith("@"):
        return "***@"
    head = re.match(r"(?i)[a-z_-]+\s*[:=]?\s*", text)
    return (head.group(0) if head else "") + "***"


def failed_comment(reason: str) -> str:
    """The one comment saying a review did not finish, and why."""
    return (
        f"⚠️ The review did not finish: {reason}. Mention me with `review` to try again. _{FOOTER}_"
    )


async def report_failure(plugin: BitbucketPlugin, outcome: JobOutcome) -> None:
    """Say once per failed job on its pull request why the review failed."""
    where = pull_request_of(outcome.key)
    plugin.ctx.log.warning("review job %s failed: %s", outcome.job_id, outcome.error)
    if where is None:
        return
    flavour, repo, pr_id = where
    if flavour != plugin.config.deployment or not plugin.config.watches(repo):
        return
    async with plugin.ctx.effects.once(outcome.job_id, "failed-note") as first:
        if first:
            text = failed_comment(public_reason(outcome.error))
            await plugin.client().add_comment(repo, pr_id, text)
