"""What the agent tells the rest of the platform: ``review.completed`` and ``bitbucket.pr.merged``.

Both carry the Jira keys of the pull request (from its branch, title and commit messages, read
with the shared ``plugin_sdk.atlassian.issue_keys``), so the Jira agent can comment on those
issues and the docs agent can react to a merge, without either of them knowing Bitbucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from plugin_sdk.atlassian import issue_keys
from plugins.bitbucket.events import PullRequestEvent
from plugins.bitbucket.findings import Severity

REVIEW_COMPLETED = "review.completed"
PR_MERGED = "bitbucket.pr.merged"
MAX_KEYS = 20


def jira_keys(
    event: PullRequestEvent,
    commit_messages: Iterable[str] = (),
    projects: Iterable[str] | None = None,
) -> list[str]:
    """Issue keys from the source branch, the title, then the commits, in that order, no repeats."""
    wanted = list(projects) if projects is not None else None
    found: list[str] = []
    for text in (event.source_branch, event.title, *commit_messages):
        for key in issue_keys(text, wanted):
            if key not in found:
                found.append(key)
    return found[:MAX_KEYS]


class PullRequestRef(BaseModel):
    """The pull request as other agents see it (no Bitbucket objects)."""

    model_config = ConfigDict(frozen=True)

    flavour: str
    repository: str
    id: int
    title: str
    url: str | None = None
    source_branch: str
    target_branch: str
    head: str
    author: str

    @classmethod
    def of(cls, event: PullRequestEvent, url: str | None = None) -> PullRequestRef:
        """From a parsed webhook."""
        return cls(
            flavour=event.flavour,
            repository=event.repo.full_name,
            id=event.pr_id,
            title=event.title,
            url=url or event.url,
            source_branch=event.source_branch,
            target_branch=event.target_branch,
            head=event.head_commit,
            author=event.author.display_name or event.author.name,
        )


class ReviewCompleted(BaseModel):
    """Payload of ``review.completed``."""

    model_config = ConfigDict(frozen=True)

    pull_request: PullRequestRef
    jira_keys: list[str]
    result: str  # PASS or FAIL
    open_counts: dict[Severity, int]
    new: int
    fixed: int
    mode: str  # "llm" or "analyzers-only"
    not_reviewed: int = 0
    summary_comment_id: int | None = None


class PullRequestMerged(BaseModel):
    """Payload of ``bitbucket.pr.merged`` (the docs agent's trigger)."""

    model_config = ConfigDict(frozen=True)

    pull_request: PullRequestRef
    merge_commit: str | None
    jira_keys: list[str] = Field(default_factory=list)


def merged_payload(event: PullRequestEvent, keys: Sequence[str]) -> dict[str, Any]:
    """The ``bitbucket.pr.merged`` payload of a merged event."""
    body = PullRequestMerged(
        pull_request=PullRequestRef.of(event), merge_commit=event.merge_commit, jira_keys=list(keys)
    )
    return body.model_dump(mode="json")
