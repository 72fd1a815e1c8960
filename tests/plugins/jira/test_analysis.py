"""Functional analysis rules: user value, INVEST, testable criteria, vague words, readiness."""

from __future__ import annotations

from plugins.jira.analysis import (
    Verdict,
    ambiguous_words,
    analyze_functional,
    is_testable,
    propose_split,
    user_value,
)
from plugins.jira.story import Link, Story

GOOD = Story(
    key="SHOP-7",
    summary="Export orders as CSV",
    description=(
        "As a shop manager I want to export the orders of a month as CSV so that I can "
        "reconcile payments in my accounting tool."
    ),
    acceptance_criteria=[
        "Given orders in March, when I export March, then a CSV downloads with one row per order",
        "The export of 10000 orders completes within 5 seconds",
        "A guest gets status 403",
    ],
)


def test_ready_story() -> None:
    result = analyze_functional(GOOD)
    assert result.verdict is Verdict.READY
    assert result.user_story_form and result.user_value == (
        "I can reconcile payments in my accounting tool"
    )
    assert all(check.ok for check in result.invest), result.invest
    assert [c.name for c in result.invest] == [
        "Independent", "Negotiable", "Valuable", "Estimable", "Small", "Testable",
    ]  # fmt: skip
    assert result.open_questions == [] and result.untestable_criteria == []


def test_vague_story_without_criteria_is_not_ready_and_asks() -> None:
    story = Story(key="X-1", summary="Make search fast", description="Search should be fast etc.")
    result = analyze_functional(story)
    assert result.verdict is Verdict.NOT_READY
    assert result.ambiguous_words == ["fast", "should", "etc"]
    assert not result.criteria_present and not result.user_story_form
    assert "What are the acceptance criteria (how do we know it is done)?" in result.open_questions
    assert 'Is every "should" a must or a nice-to-have?' in result.open_questions
    failed = {c.name for c in result.invest if not c.ok}
    assert {"Valuable", "Testable", "Estimable"} <= failed


def test_blocked_story_and_untestable_criterion_need_work() -> None:
    story = GOOD.model_copy(
        update={
            "links": [Link(relation="is blocked by", key="SHOP-3", summary="Orders API")],
            "acceptance_criteria": [*GOOD.acceptance_criteria, "The export is user-friendly"],
        }
    )
    result = analyze_functional(story)
    assert result.verdict is Verdict.NEEDS_WORK
    assert result.untestable_criteria == ["The export is user-friendly"]
    independent = next(c for c in result.invest if c.name == "Independent")
    assert not independent.ok and "SHOP-3" in independent.note
    assert "Will SHOP-3 (is blocked by) be done before this starts?" in result.open_questions
    done = story.model_copy(
        update={"links": [Link(relation="is blocked by", key="SHOP-3", done=True)]}
    )
    assert next(c for c in analyze_functional(done).invest if c.name == "Independent").ok


def test_questions_in_the_text_are_open_questions() -> None:
    story = GOOD.model_copy(
        update={"description": GOOD.description + "\nIs VAT included? TBD by finance"}
    )
    asked = analyze_functional(story).open_questions
    assert "Is VAT included?" in asked and any("TBD" in q for q in asked)


def test_rules() -> None:
    assert user_value("In order to pay less, we batch calls.") == (
        False,
        "pay less, we batch calls",
    )
    assert user_value("As an admin, I need audit logs")[0]
    assert ambiguous_words("A user-friendly, fast and/or SIMPLE page; fastest") == [
        "user-friendly", "fast", "and/or", "simple",
    ]  # fmt: skip
    assert is_testable("Given a cart, when I pay, then I get a receipt")
    assert is_testable("Responds within 200 ms")
    assert is_testable("The order list shows the total")
    assert not is_testable("It works")
    assert not is_testable("The page loads fast")


def test_too_big_story_is_not_small() -> None:
    story = GOOD.model_copy(update={"acceptance_criteria": [f"shows item {n}" for n in range(12)]})
    small = next(c for c in analyze_functional(story).invest if c.name == "Small")
    assert not small.ok and "12 criteria" in small.note


def test_split_along_and_sharing_the_object_but_not_idioms() -> None:
    def split(summary: str, criteria: list[str] | None = None) -> list[str]:
        return propose_split(Story(key="A-1", summary=summary, acceptance_criteria=criteria or []))

    assert split("Export and email the monthly orders") == [
        "Export the monthly orders",
        "Email the monthly orders",
    ]
    assert split("Add login page and reset password flow") == [
        "Add login page",
        "Reset password flow",
    ]
    assert split("Drag and drop files") == []
    assert split("Small thing", ["the page shows totals"]) == []


def test_split_a_story_with_many_criteria_one_child_per_criterion() -> None:
    criteria = [f"the list shows column {n}" for n in range(7)]
    children = propose_split(Story(key="A-1", summary="Order list", acceptance_criteria=criteria))
    assert children == [f"Order list: the list shows column {n}" for n in range(5)]
