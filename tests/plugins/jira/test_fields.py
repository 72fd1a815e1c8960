"""Story-points (and other) field discovery: the board's field first, then name and type."""

from __future__ import annotations

from plugins.jira.fields import FieldInfo, discover, story_points_field


def _custom(fid: str, name: str, custom: str, kind: str = "number") -> FieldInfo:
    return FieldInfo.of(
        {"id": fid, "name": name, "custom": True, "schema": {"type": kind, "custom": custom}}
    )


FLOAT = "com.atlassian.jira.plugin.system.customfieldtypes:float"
JSW = "com.pyxis.greenhopper.jira:jsw-story-points"
FIELDS = [
    FieldInfo.of({"id": "summary", "name": "Summary", "schema": {"type": "string"}}),
    _custom("customfield_10016", "Story point estimate", JSW),
    _custom("customfield_10777", "Story Points", FLOAT),
    _custom("customfield_10020", "Sprint", "com.pyxis.greenhopper.jira:gh-sprint", "array"),
    _custom("customfield_10014", "Epic Link", "com.pyxis.greenhopper.jira:gh-epic-link", "any"),
    _custom("customfield_10500", "Acceptance Criteria", "textarea", "string"),
    _custom("customfield_10600", "Story Points (old text)", "textfield", "string"),
]


def test_board_estimation_field_wins_when_it_exists() -> None:
    assert story_points_field(FIELDS, "customfield_10016") == "customfield_10016"
    assert story_points_field(FIELDS, "customfield_99999") == "customfield_10777"


def test_by_name_story_points_first_then_estimate_then_type() -> None:
    assert story_points_field(FIELDS) == "customfield_10777"
    assert story_points_field([f for f in FIELDS if f.id != "customfield_10777"]) == (
        "customfield_10016"
    )
    renamed = [_custom("customfield_1", "Punkte", JSW), FIELDS[0]]
    assert story_points_field(renamed) == "customfield_1"
    assert story_points_field([FIELDS[0], FIELDS[-1]]) is None  # a text field never holds points


def test_discover_every_field() -> None:
    ids = discover(FIELDS)
    assert ids.model_dump() == {
        "story_points": "customfield_10777",
        "acceptance_criteria": "customfield_10500",
        "sprint": "customfield_10020",
        "epic_link": "customfield_10014",
    }
