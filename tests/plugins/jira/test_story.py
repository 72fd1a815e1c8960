"""Issue fields (v2 wiki, v3 ADF, DC) -> Story: criteria from a field or a description section."""

from __future__ import annotations

from typing import Any

from plugin_sdk.atlassian import text_to_adf
from plugins.jira.story import FieldIds, criteria_from_description, story_from_issue

IDS = FieldIds(
    story_points="customfield_10444",
    acceptance_criteria="customfield_10500",
    sprint="customfield_10020",
    epic_link="customfield_10014",
)


def _issue(**fields: Any) -> dict[str, Any]:
    return {"id": "10001", "key": "SHOP-7", "fields": {"summary": "Export orders", **fields}}


def test_v2_wiki_description_with_criteria_section() -> None:
    description = (
        "As a manager I want to export orders so that I can reconcile payments.\n\n"
        "h3. Acceptance criteria\n"
        "* Given orders, when I export, then a CSV downloads\n"
        "* the file has one row per order\n\n"
        "h3. Notes:\n"
        "Keep it simple."
    )
    story = story_from_issue(
        _issue(
            description=description,
            issuetype={"name": "Story"},
            status={"name": "To Do"},
            labels=["export"],
            components=[{"name": "backend"}, {"name": "reports"}],
            customfield_10444=3,
            customfield_10020=[
                {"id": 1, "name": "Sprint 4", "state": "closed"},
                {"id": 2, "name": "Sprint 5", "state": "active"},
            ],
            customfield_10014="SHOP-1",
        ),
        IDS,
    )
    assert story.acceptance_criteria == [
        "Given orders, when I export, then a CSV downloads",
        "the file has one row per order",
    ]
    assert story.criteria_source == "description"
    assert "Acceptance" not in story.description and "Keep it simple." in story.description
    assert (story.issue_type, story.status, story.points) == ("Story", "To Do", 3.0)
    assert story.components == ["backend", "reports"] and story.labels == ["export"]
    assert (story.sprint, story.parent) == ("Sprint 5", "SHOP-1")


def test_v3_adf_description_and_criteria_field_win_over_the_section() -> None:
    story = story_from_issue(
        _issue(
            description=text_to_adf(
                "Export the orders.\n\nAcceptance criteria:\n- from description"
            ),
            customfield_10500=text_to_adf("- shows a success message\n- returns 403 for guests"),
            parent={"key": "SHOP-2", "fields": {}},
        ),
        IDS,
    )
    assert story.acceptance_criteria == ["shows a success message", "returns 403 for guests"]
    assert story.criteria_source == "field" and story.parent == "SHOP-2"
    assert story.description.startswith("Export the orders.")


def test_links_both_directions_with_their_state() -> None:
    links = [
        {
            "type": {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
            "inwardIssue": {
                "key": "SHOP-3",
                "fields": {"summary": "Orders API", "status": {"statusCategory": {"key": "done"}}},
            },
        },
        {
            "type": {"name": "Relates", "inward": "relates to", "outward": "relates to"},
            "outwardIssue": {"key": "SHOP-9", "fields": {"summary": "Invoices"}},
        },
    ]
    story = story_from_issue(_issue(issuelinks=links), IDS)
    assert [(lk.relation, lk.key, lk.done) for lk in story.links] == [
        ("is blocked by", "SHOP-3", True),
        ("relates to", "SHOP-9", False),
    ]


def test_minimal_issue_and_unknown_field_ids() -> None:
    story = story_from_issue(
        {"key": "X-1", "fields": {"summary": "s", "description": None}}, FieldIds()
    )
    assert (story.description, story.acceptance_criteria, story.criteria_source) == ("", [], None)
    assert story.points is None and story.sprint is None and story.parent is None


def test_criteria_section_forms() -> None:
    assert criteria_from_description("AC: the page shows totals")[1] == ["the page shows totals"]
    rest, found = criteria_from_description("x\n\nDefinition of done:\n1. a\n2) b\n\nLater text")
    assert found == ["a", "b"] and rest == "x\n\n\nLater text"
    assert criteria_from_description("no section here") == ("no section here", [])
