"""Skip rules: drafts, closed pull requests, branch globs, authors."""

from __future__ import annotations

from plugins.bitbucket.events import Actor, EventKind, PullRequestEvent, RepoRef
from plugins.bitbucket.repo_settings import SkipRules
from plugins.bitbucket.skip import skip_reason


def _event(**changes: object) -> PullRequestEvent:
    base = PullRequestEvent(
        flavour="cloud",
        event_key="pullrequest:created",
        kind=EventKind.OPENED,
        repo=RepoRef(owner="acme", slug="shop"),
        pr_id=4,
        title="SHOP-12 add export",
        state="OPEN",
        source_branch="feature/SHOP-12-export",
        target_branch="main",
        head_commit="a" * 40,
        author=Actor(id="{u1}", name="alice"),
        actor=Actor(id="{u1}", name="alice"),
    )
    return base.model_copy(update=changes)


def test_reviewed_by_default() -> None:
    assert skip_reason(_event(), SkipRules()) is None


def test_drafts_closed_branches_authors() -> None:
    assert "draft" in (skip_reason(_event(draft=True), SkipRules()) or "")
    assert skip_reason(_event(draft=True), SkipRules(drafts=False)) is None
    assert "merged" in (skip_reason(_event(state="MERGED"), SkipRules()) or "")
    why = skip_reason(_event(source_branch="release/1.2"), SkipRules(branches=["release/*"]))
    assert why == "source branch 'release/1.2' matches skip pattern 'release/*'"
    assert skip_reason(_event(source_branch="release/1.2"), SkipRules(branches=["release"])) is None
    assert skip_reason(_event(source_branch="renovate-x"), SkipRules(branches=["renovate*"]))
    assert skip_reason(_event(target_branch="legacy"), SkipRules(target_branches=["legacy"]))
    assert "alice" in (skip_reason(_event(), SkipRules(authors=["ALICE"])) or "")
    assert skip_reason(_event(), SkipRules(authors=["{u1}"]))
