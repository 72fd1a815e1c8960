"""Which pull requests get no review, and the one sentence that says why."""

from __future__ import annotations

from plugins.bitbucket.events import PullRequestEvent
from plugins.bitbucket.findings import path_matches
from plugins.bitbucket.repo_settings import SkipRules


def _branch_matches(branch: str, patterns: list[str]) -> str | None:
    for pattern in patterns:
        # branch names contain "/" (feature/x): match the whole name, "*" within a segment
        if path_matches(branch, [pattern if "/" in pattern else f"/{pattern}"]):
            return pattern
    return None


def skip_reason(event: PullRequestEvent, rules: SkipRules) -> str | None:
    """Why this pull request is not reviewed, or ``None`` when it is."""
    if event.state.upper() != "OPEN":
        return f"the pull request is {event.state.lower()}"
    if rules.drafts and event.draft:
        return "the pull request is a draft (reviews start when it is marked ready)"
    source = _branch_matches(event.source_branch, rules.branches)
    if source is not None:
        return f"source branch {event.source_branch!r} matches skip pattern {source!r}"
    target = _branch_matches(event.target_branch, rules.target_branches)
    if target is not None:
        return f"target branch {event.target_branch!r} matches skip pattern {target!r}"
    authors = {a.lower() for a in rules.authors}
    if authors & {event.author.id.lower(), event.author.name.lower()}:
        return f"author {event.author.name or event.author.id} is on the skip list"
    return None
