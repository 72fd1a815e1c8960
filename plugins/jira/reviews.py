"""``review.completed`` (a Bitbucket review) told on the Jira issues the pull request names.

The payload is read by its own model here (the Jira agent never imports the Bitbucket plugin):
the fields it needs, anything else ignored, so the review agent may add fields freely. Each issue
gets one comment per pull request and head, and one remote link to the pull request (Jira's
``globalId`` makes the link itself idempotent: a second POST updates it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from plugin_sdk.atlassian.adf import doc, paragraph, text_node
from plugins.jira.render import wiki_escape

REVIEW_COMPLETED = "review.completed"
SEVERITIES = ("high", "medium", "low")
MAX_KEYS = 20  # the review agent sends at most 20 keys; a larger list is cut, not refused


class ReviewedPullRequest(BaseModel):
    """The pull request of a review, as ``review.completed`` names it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    flavour: str = "cloud"
    repository: str
    id: int
    title: str = ""
    url: str | None = None
    source_branch: str = ""
    target_branch: str = ""
    head: str
    author: str = ""


class ReviewCompleted(BaseModel):
    """What the Jira agent reads of ``review.completed`` (extra fields ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    pull_request: ReviewedPullRequest
    jira_keys: list[str] = Field(default_factory=list)
    result: str = ""
    open_counts: dict[str, int] = Field(default_factory=dict)
    new: int = 0
    fixed: int = 0
    mode: str = ""
    not_reviewed: int = 0

    @property
    def step(self) -> str:
        """The ledger prefix of this review: pull request and head."""
        pr = self.pull_request
        return f"review/{pr.flavour}:{pr.repository}#{pr.id}@{pr.head}"


def _counts(review: ReviewCompleted) -> str:
    counts = review.open_counts
    parts = [f"{counts.get(s, 0)} {s}" for s in SEVERITIES]
    return ", ".join(parts)


def lines(review: ReviewCompleted) -> list[str]:
    """What the comment says, one line each (plain text)."""
    pr = review.pull_request
    mode = "LLM and analyzers" if review.mode == "llm" else "static analysis only"
    branch = f" ({pr.source_branch} → {pr.target_branch})" if pr.source_branch else ""
    out = [
        f"Pull request #{pr.id} {pr.title!r} in {pr.repository}{branch} was reviewed "
        f"at {pr.head[:12]}: {review.result or 'done'}.",
        f"Open findings: {_counts(review)}; new {review.new}, fixed {review.fixed}. "
        f"Review: {mode}.",
    ]
    if review.not_reviewed:
        out.append(f"{review.not_reviewed} changed files were not reviewed.")
    return out


def to_adf(review: ReviewCompleted) -> dict[str, Any]:
    """The comment as ADF (Cloud); the pull request's URL as a link when there is one."""
    pr = review.pull_request
    head = [text_node("dcoder review", "strong"), text_node(": ")]
    body = [paragraph(*head, text_node(line)) if i == 0 else paragraph(text_node(line))
            for i, line in enumerate(lines(review))]  # fmt: skip
    if pr.url:
        mark = {"type": "link", "attrs": {"href": pr.url}}
        link = {"type": "text", "text": pr.url, "marks": [mark]}
        body.append(paragraph(text_node("Pull request: "), link))
    return doc(*body)


def to_wiki(review: ReviewCompleted) -> str:
    """The comment as wiki markup (Data Center)."""
    out = [wiki_escape(line) for line in lines(review)]
    out[0] = "*dcoder review*: " + out[0]
    if review.pull_request.url:
        out.append(f"Pull request: [{review.pull_request.url}]")
    return "\n".join(out) + "\n"


def remote_link(review: ReviewCompleted) -> dict[str, Any] | None:
    """The remote issue link to the pull request (``None`` without a URL)."""
    pr = review.pull_request
    if not pr.url:
        return None
    return {
        "globalId": f"dcoder-pr={pr.flavour}:{pr.repository}#{pr.id}"[:255],
        "application": {"type": "com.atlassian.bitbucket", "name": "Bitbucket"},
        "relationship": "reviewed in",
        "object": {
            "url": pr.url,
            "title": f"{pr.repository} #{pr.id}: {pr.title}"[:255],
            "summary": f"review {review.result or 'done'}: open {_counts(review)}",
            "status": {"resolved": False},
        },
    }
