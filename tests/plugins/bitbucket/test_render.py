"""Inline comments, the one summary, Code Insights shapes, and the emitted payloads."""

from __future__ import annotations

from plugins.bitbucket.events import Actor, EventKind, PullRequestEvent, RepoRef
from plugins.bitbucket.findings import Severity, from_analysis
from plugins.bitbucket.insights import build_report
from plugins.bitbucket.outcome import PullRequestRef, ReviewCompleted, jira_keys, merged_payload
from plugins.bitbucket.render import (
    SUMMARY_MARKER,
    Mode,
    Summary,
    inline_comment,
    marker_of,
    summary_comment,
)
from tests.plugins.bitbucket.findings_data import REPORT, finding


def test_inline_comment_has_rule_cwe_why_fix_and_suggestion() -> None:
    sql = from_analysis(REPORT)[0].model_copy(update={"suggestion": "cur.execute(q, (x,))"})
    text = inline_comment(sql)
    assert text.startswith("**🔴 High · SQL injection** (`semgrep/py-sql-injection`, CWE-89)")
    assert "User input from request.args reaches cursor.execute" in text
    assert "**Why it matters:** Crafted input can read or change any data" in text
    assert "**Fix:** Pass values as query parameters." in text
    assert "```suggestion\ncur.execute(q, (x,))\n```" in text
    assert "also reported by bandit/B608" in text
    assert "```suggestion" not in inline_comment(sql, suggestions=False)


def test_suggestion_fence_survives_backticks_and_llm_confidence_is_shown() -> None:
    llm = finding(source="llm", rule="llm/bug", confidence=0.8, suggestion="x = '```'")
    text = inline_comment(llm)
    assert "````suggestion\nx = '```'\n````" in text and "LLM review, confidence 80%" in text


def _summary(**changes: object) -> Summary:
    base = Summary(
        head="0123456789abcdef",
        mode=Mode(analyzers=["semgrep", "ruff"], llm="bitbucket-review@v1"),
        result="FAIL",
        fail_on=Severity.HIGH,
        open_counts={Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 0},
        new_counts={Severity.HIGH: 1},
        fixed=1,
        reviewed_files=3,
        not_reviewed=[("data.json", "not reviewed by the LLM: one change of ~9000 tokens ...")],
        over_cap=2,
        cap=20,
        below_threshold=4,
        threshold=Severity.MEDIUM,
        settings_source=".dcoder/review.yaml at 0123456789ab",
    )
    return base.model_copy(update=changes)


def test_summary_counts_reviewed_skipped_mode() -> None:
    text = summary_comment(_summary())
    assert text.startswith("### dcoder review: ❌ FAIL at 0123456789ab")
    assert "LLM review (prompt bitbucket-review@v1)" in text
    assert "**3 open findings**, 1 fixed by this push" in text
    assert "| 🔴 high | 1 | 1 |" in text and "| 🟠 medium | 2 | 0 |" in text
    assert "**Reviewed:** 3 changed files." in text
    assert "- `data.json`: not reviewed by the LLM" in text
    assert "2 findings over this review's cap of 20 comments" in text
    assert "4 below the comment threshold (medium)" in text
    assert "**Settings:** .dcoder/review.yaml at 0123456789ab." in text


def test_summary_in_analyzer_only_mode_says_why() -> None:
    mode = Mode(analyzers=["semgrep"], llm_note="no LLM model is configured")
    text = summary_comment(_summary(mode=mode, result="PASS", settings_note="max_comments: bad"))
    assert "static analysis only (semgrep); no LLM review (no LLM model is configured)." in text
    assert "✅ PASS" in text and "(the repository file was not used: max_comments: bad)" in text


def test_insights_cloud_and_dc_shapes() -> None:
    found = [finding(line=n, severity=s) for n, s in ((1, "high"), (2, "low"))]
    cloud = build_report(found, Severity.HIGH, "cloud")
    assert cloud.report["result"] == "FAILED" and cloud.report["report_type"] == "SECURITY"
    assert cloud.annotations[0]["severity"] == "HIGH" and cloud.annotations[0]["external_id"]
    assert {a["annotation_type"] for a in cloud.annotations} == {"CODE_SMELL"}
    dc = build_report(found, Severity.HIGH, "dc")
    assert dc.report["result"] == "FAIL" and dc.annotations[1]["severity"] == "LOW"
    assert build_report(found[1:], Severity.HIGH, "dc").report["result"] == "PASS"
    assert build_report(found, Severity.LOW, "cloud").passed is False
    many = build_report([finding(line=n, fp=str(n)) for n in range(1, 251)], Severity.HIGH, "cloud")
    assert [len(b) for b in many.batches()] == [100, 100, 50]


def _event() -> PullRequestEvent:
    return PullRequestEvent(
        flavour="dc",
        event_key="pr:merged",
        kind=EventKind.MERGED,
        repo=RepoRef(owner="SHOP", slug="web"),
        pr_id=8,
        title="SHOP-12: export, fixes SHOP-3",
        state="MERGED",
        source_branch="feature/SHOP-12-export",
        target_branch="main",
        head_commit="b" * 40,
        author=Actor(id="3", name="alice", display_name="Alice"),
        actor=Actor(id="3", name="alice"),
        merge_commit="c" * 40,
    )


def test_jira_keys_and_payloads() -> None:
    event = _event()
    keys = jira_keys(event, ["OPS-7 deploy script", "UTF-8 fix", "SHOP-3 again"])
    assert keys == ["SHOP-12", "SHOP-3", "OPS-7"]
    assert jira_keys(event, ["OPS-7"], projects=["SHOP"]) == ["SHOP-12", "SHOP-3"]
    merged = merged_payload(event, keys)
    assert merged["merge_commit"] == "c" * 40 and merged["pull_request"]["repository"] == "SHOP/web"
    done = ReviewCompleted(
        pull_request=PullRequestRef.of(event),
        jira_keys=keys,
        result="PASS",
        open_counts={Severity.HIGH: 0},
        new=0,
        fixed=1,
        mode="analyzers-only",
    )
    assert done.model_dump(mode="json")["open_counts"] == {"high": 0}


def test_markers_let_the_agent_find_its_comments_again() -> None:
    sql = from_analysis(REPORT)[0]
    assert marker_of(inline_comment(sql)) == sql.fingerprint
    assert marker_of(summary_comment(_summary())) == SUMMARY_MARKER
    assert marker_of("[//]: # (dcoder:abc) said someone") is None  # only a line of its own
    assert marker_of("plain text") is None
