"""Technical analysis from history: similarity, components, risks, dependencies, tests."""

from __future__ import annotations

from plugins.jira.similarity import PastStory, most_similar, tokens
from plugins.jira.story import Link, Story
from plugins.jira.technical import RiskKind, analyze_technical, risks

HISTORY = [
    PastStory(
        key="SHOP-1", summary="Export invoices to CSV", components=["reports", "backend"], points=3
    ),
    PastStory(key="SHOP-2", summary="Login with SSO", components=["auth"], points=5),
    PastStory(key="SHOP-4", summary="Import products from CSV", components=["catalog"], points=2),
    PastStory(
        key="SHOP-5", summary="Export customers to CSV file", components=["reports"], points=2
    ),
    PastStory(key="SHOP-6", summary="Dark mode for the storefront", components=["web"], points=1),
]
STORY = Story(
    key="SHOP-7",
    summary="Export orders to CSV",
    description="Accounting needs a monthly file; the payment provider's ids must be included.",
    acceptance_criteria=["Given orders, when I export, then a CSV downloads"],
    links=[Link(relation="is blocked by", key="SHOP-3", summary="Orders API")],
)


def test_tokens_fold_plurals_and_drop_stop_words() -> None:
    assert tokens("The Exports of orders, and an API!") == ["export", "order", "api"]


def test_most_similar_ranks_exports_first_and_skips_unrelated() -> None:
    found = most_similar("Export orders to CSV", HISTORY, limit=3)
    assert [m.story.key for m in found[:2]] == ["SHOP-5", "SHOP-1"] or [
        m.story.key for m in found[:2]
    ] == ["SHOP-1", "SHOP-5"]
    assert all(m.story.key != "SHOP-6" for m in found)
    assert found == sorted(found, key=lambda m: m.score, reverse=True)
    assert most_similar("", HISTORY) == [] and most_similar("anything", []) == []


def test_analysis_components_from_similar_issues_risks_dependencies_tests() -> None:
    result = analyze_technical(STORY, HISTORY)
    names = [c.name for c in result.components]
    assert names[0] == "reports" and "backend" in names
    reports = result.components[0]
    assert set(reports.because) <= {"SHOP-1", "SHOP-5"} and reports.because
    assert [r.kind for r in result.risks] == [RiskKind.THIRD_PARTY]
    assert result.dependencies == ["is blocked by SHOP-3 (Orders API)"]
    assert result.test_approach[0] == "one automated acceptance test per criterion (1)"
    assert any("contract tests" in step for step in result.test_approach)
    assert len(result.similar) == 3 and result.similar[0].story.key in ("SHOP-1", "SHOP-5")


def test_issue_itself_is_not_its_own_similar_issue_and_set_components_come_first() -> None:
    history = [*HISTORY, PastStory(key="SHOP-7", summary="Export orders to CSV")]
    story = STORY.model_copy(update={"components": ["billing"]})
    result = analyze_technical(story, history)
    assert "SHOP-7" not in [m.story.key for m in result.similar]
    assert result.components[0].name == "billing"
    assert result.components[0].because == ["set on the issue"]


def test_risk_keywords() -> None:
    found = {
        r.kind: r.evidence for r in risks("Migrate the users table; OAuth tokens; p95 latency")
    }
    assert set(found) == {RiskKind.MIGRATION, RiskKind.SECURITY, RiskKind.PERFORMANCE}
    assert "oauth" in found[RiskKind.SECURITY]
    assert risks("Change the button colour") == []
    assert risks("rapid iteration") == []  # 'api' only at a word start
