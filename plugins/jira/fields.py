"""Which custom fields hold story points, acceptance criteria, sprint and epic (pure).

Custom field ids differ per site, so they are found by schema and name in ``GET /field``; for the
points, the board's estimation field (``GET /rest/agile/1.0/board/{id}/configuration``) wins,
because a board may estimate with either "Story Points" or "Story point estimate".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from plugins.jira.story import FieldIds

POINTS_TYPES = (
    "com.atlassian.jira.plugin.system.customfieldtypes:float",
    "com.pyxis.greenhopper.jira:jsw-story-points",
)
POINTS_NAMES = ("story points", "story point estimate")
SPRINT_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"
EPIC_LINK_TYPE = "com.pyxis.greenhopper.jira:gh-epic-link"


class FieldInfo(BaseModel):
    """One entry of ``GET /rest/api/{2,3}/field``."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    custom: bool = False
    schema_type: str | None = None
    schema_custom: str | None = None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> FieldInfo:
        """From Jira's JSON."""
        schema = raw.get("schema") if isinstance(raw.get("schema"), dict) else {}
        return cls(
            id=str(raw.get("id", "")),
            name=str(raw.get("name", "")),
            custom=bool(raw.get("custom")),
            schema_type=schema.get("type") if schema else None,
            schema_custom=schema.get("custom") if schema else None,
        )


def story_points_field(fields: Sequence[FieldInfo], board_field: str | None = None) -> str | None:
    """The story-points field: the board's estimation field if it exists, else by name and type."""
    by_id = {f.id: f for f in fields}
    if board_field and board_field in by_id:
        return board_field
    numbers = [f for f in fields if f.custom and f.schema_type == "number"]
    for name in POINTS_NAMES:  # "Story Points" (company-managed) before the team-managed one
        found = next((f for f in numbers if f.name.lower() == name), None)
        if found is not None:
            return found.id
    return next((f.id for f in numbers if f.schema_custom in POINTS_TYPES), None)


def _by(fields: Sequence[FieldInfo], custom_type: str, name: str) -> str | None:
    found = next((f for f in fields if f.schema_custom == custom_type), None)
    found = found or next((f for f in fields if f.custom and f.name.lower() == name), None)
    return found.id if found else None


def discover(fields: Sequence[FieldInfo], board_field: str | None = None) -> FieldIds:
    """Every field id the agent reads or writes on this site."""
    criteria = next(
        (f.id for f in fields if f.custom and "acceptance criteria" in f.name.lower()), None
    )
    return FieldIds(
        story_points=story_points_field(fields, board_field),
        acceptance_criteria=criteria,
        sprint=_by(fields, SPRINT_TYPE, "sprint"),
        epic_link=_by(fields, EPIC_LINK_TYPE, "epic link"),
    )
