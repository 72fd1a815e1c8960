"""A review composed from its parts: first review, a push that fixes one and adds one, a failed
analyzer, the LLM's part, the threshold; and the review.completed payload."""

from __future__ import annotations

import copy
from typing import Any

from plugins.bitbucket.events import Actor, EventKind, PullRequestEvent, RepoRef
from plugins.bitbucket.findings import Severity, from_analysis
from plugins.bitbucket.ledger import Ledger
from plugins.bitbucket.llm import LlmResult
from plugins.bitbucket.repo_settings import Effective, ReviewSettings
from plugins.bitbucket.review import completed, compose
from tests.plugins.bitbucket.findings_data import REPORT, finding

EVENT = PullRequestEvent(
    flavour="cloud",
    event_key="pullrequest:created",
    kind=EventKind.OPENED,
    repo=RepoRef(owner="acme", slug="shop"),
    pr_id=3,
    title="SHOP-12 export",
    state="OPEN",
    source_branch="feature/SHOP-12",
    target_branch="main",
    head_commit="a" * 12,
    author=Actor(id="{u}", name="alice"),
    actor=Actor(id="{u}", name="alice"),
)
DEFAULTS = Effective(settings=ReviewSettings(), source="instance defaults")


def _applied(ledger: Ledger, composed: Any, commit: str) -> Ledger:
    """What the job does after posting and resolving (comment ids 100, 101, ...)."""
    for number, f in enumerate(composed.plan.post, start=100 + len(ledger.entries)):
        ledger = ledger.posted(f, number, commit)
    for entry in composed.plan.resolve:
        ledger = ledger.resolved(entry.fingerprint, commit)
    return ledger


def test_first_review_without_an_llm() -> None:
    review = compose(EVENT, "h1", DEFAULTS, REPORT, Ledger(key=EVENT.review_key),
                     llm_note="no LLM model is configured")  # fmt: skip
    assert [f.rule for f in review.plan.post] == ["semgrep/py-sql-injection", "ruff/S602"]
    s = review.summary
    assert s.open_counts == {Severity.HIGH: 1, Severity.MEDIUM: 0, Severity.LOW: 1}
    assert s.new_counts == s.open_counts and s.fixed == 0 and s.result == "FAIL"
    assert s.mode.llm is None and s.mode.llm_note == "no LLM model is configured"
    assert s.mode.analyzers == ["semgrep", "ruff", "bandit", "dataflow"]
    assert s.reviewed_files == 1 and not s.problems
    assert review.report.report["result"] == "FAILED" and len(review.report.annotations) == 2


def test_a_push_that_fixes_one_and_adds_one() -> None:
    ledger = _applied(
        Ledger(key=EVENT.review_key), compose(EVENT, "h1", DEFAULTS, REPORT, Ledger(key="k")), "h1"
    )
    pushed = copy.deepcopy(REPORT)
    sql = pushed["findings"].pop(0)
    pushed["findings"].append(sql | {"rule_id": "py-open-redirect", "severity": "medium",
                                     "fingerprint": "r" * 32, "start_line": 20})  # fmt: skip
    review = compose(EVENT, "h2", DEFAULTS, pushed, ledger)
    assert [f.rule for f in review.plan.post] == ["semgrep/py-open-redirect"]
    assert [e.rule for e in review.plan.resolve] == ["semgrep/py-sql-injection"]
    s = review.summary
    assert s.fixed == 1 and s.result == "PASS"
    assert s.open_counts == {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 1}
    assert s.new_counts[Severity.MEDIUM] == 1 and s.new_counts[Severity.LOW] == 0
    again = compose(EVENT, "h2", DEFAULTS, pushed, _applied(ledger, review, "h2"))
    assert not again.plan.post and not again.plan.resolve  # the same webhook twice: nothing


def test_a_ledger_kept_under_v1_fingerprints_carries_over() -> None:
    # the first review ran before the engine's fingerprints stopped naming the tool
    ledger = _applied(
        Ledger(key="k"), compose(EVENT, "h1", DEFAULTS, REPORT, Ledger(key="k")), "h1"
    )
    upgraded = copy.deepcopy(REPORT)
    sql = upgraded["findings"][0]
    sql |= {"fingerprint": "2" * 32, "earlier_fingerprints": [sql["fingerprint"]]}
    review = compose(EVENT, "h2", DEFAULTS, upgraded, ledger)
    assert not review.plan.post and not review.plan.resolve
    assert review.summary.fixed == 0 and review.summary.new_counts[Severity.HIGH] == 0
    assert review.ledger.entries["2" * 32].comment_id == 100  # saved under v2 from now on
    assert "f" * 32 not in review.ledger.entries


def test_a_failed_analyzer_resolves_nothing_and_says_so() -> None:
    ledger = _applied(
        Ledger(key="k"), compose(EVENT, "h1", DEFAULTS, REPORT, Ledger(key="k")), "h1"
    )
    broken = REPORT | {
        "findings": [],
        "runs": [{"tool": "semgrep", "ok": False, "error": "timeout"}],
    }
    review = compose(EVENT, "h2", DEFAULTS, broken, ledger)
    assert not review.plan.resolve
    assert review.summary.problems == ["semgrep did not finish: timeout"]
    assert review.summary.open_counts[Severity.HIGH] == 1  # not fixed: not looked at


def test_llm_findings_gaps_and_threshold() -> None:
    llm = LlmResult(label="bitbucket-review@v1", calls=2, failed_chunks=1)
    llm.findings.append(finding(path="app.py", line=30, severity="medium", source="llm",
                                rule="llm/bug", confidence=0.8, fp="m" * 32))  # fmt: skip
    llm.not_reviewed.append(
        ("big.json", "not reviewed by the LLM: the LLM's answer was unusable twice")
    )
    medium = ReviewSettings(severity_threshold=Severity.MEDIUM, fail_on=Severity.MEDIUM)
    strict = Effective(settings=medium, source=".dcoder/review.yaml at abc")
    review = compose(EVENT, "h1", strict, REPORT, Ledger(key="k"), llm=llm)
    assert review.summary.mode.llm == "bitbucket-review@v1"
    assert review.summary.not_reviewed == [
        ("big.json", "not reviewed by the LLM: the LLM's answer was unusable twice")
    ]
    assert [f.rule for f in review.plan.post] == ["semgrep/py-sql-injection", "llm/bug"]
    assert review.summary.below_threshold == 1  # the low ruff finding: annotated, not commented
    assert len(review.report.annotations) == 3 and review.scope.sources == {"analyzer", "llm"}
    assert review.scope.not_reviewed == {"big.json"}


def test_raising_the_threshold_neither_posts_nor_fixes_what_falls_below() -> None:
    ledger = _applied(
        Ledger(key="k"), compose(EVENT, "h1", DEFAULTS, REPORT, Ledger(key="k")), "h1"
    )
    high = Effective(settings=ReviewSettings(severity_threshold=Severity.HIGH), source="x")
    review = compose(EVENT, "h2", high, REPORT, ledger)
    assert not review.plan.post and not review.plan.resolve
    assert review.summary.open_counts[Severity.LOW] == 1 and review.summary.below_threshold == 1
    capped = compose(EVENT, "h1", Effective(settings=ReviewSettings(max_comments=1), source="x"),
                     REPORT, Ledger(key="k"))  # fmt: skip
    assert len(capped.plan.post) == 1 and capped.summary.over_cap == 1


def test_completed_payload() -> None:
    review = compose(EVENT, "h1" * 20, DEFAULTS, REPORT, Ledger(key="k"))
    done = completed(EVENT, review, ["SHOP-12"], summary_comment_id=7)
    data = done.model_dump(mode="json")
    assert data["pull_request"]["head"] == "h1" * 20 and data["jira_keys"] == ["SHOP-12"]
    assert (data["result"], data["new"], data["mode"], data["summary_comment_id"]) == (
        "FAIL",
        2,
        "analyzers-only",
        7,
    )
    assert data["open_counts"] == {"high": 1, "medium": 0, "low": 1}
    assert from_analysis(REPORT)[0].fingerprint in {
        a["external_id"] for a in review.report.annotations
    }


def test_a_switched_off_analyzer_neither_posts_nor_fixes() -> None:
    ledger = _applied(
        Ledger(key=EVENT.review_key), compose(EVENT, "h1", DEFAULTS, REPORT, Ledger(key="k")), "h1"
    )
    off = ReviewSettings.model_validate({"analyzers": {"ruff": False}})
    effective = Effective(settings=off, source=".dcoder/review.yaml at base")
    # a report that still holds ruff's finding (from before the switch) and one without it
    for report in (REPORT, REPORT | {"findings": REPORT["findings"][:1]}):
        review = compose(EVENT, "h2", effective, report, Ledger(key=EVENT.review_key))
        assert [f.rule for f in review.plan.post] == ["semgrep/py-sql-injection"]
        again = compose(EVENT, "h2", effective, report, ledger)
        assert again.plan.post == [] and again.plan.resolve == []  # ruff's comment stays open
        assert again.summary.mode.analyzers == ["semgrep", "bandit", "dataflow"]
        assert again.summary.open_counts[Severity.LOW] == 1 and again.summary.fixed == 0
