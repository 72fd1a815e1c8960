"""A Jira issue's fields as a typed ``Story`` (pure: the field ids come from discovery)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from plugin_sdk.atlassian import adf_to_text, is_adf, wiki_to_text

# A description section holding acceptance criteria ends at the next heading-like line.
_AC_HEADING = re.compile(
    r"^\s*(?:#+\s*|h[1-6]\.\s*|\*)?(acceptance criteria|acceptance|ac|definition of done)\b"
    r"\s*\*?\s*:?\s*(.*)$",
    re.IGNORECASE,
)
_OTHER_HEADING = re.compile(r"^\s*(?:#+\s+|h[1-6]\.\s*)?[A-Z][\w /&-]{1,40}:\s*$")
_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)]|\[[ xX]?\])\s+")


class FieldIds(BaseModel):
    """Custom field ids of one site (discovered, never hard-coded)."""

    model_config = ConfigDict(frozen=True)

    story_points: str | None = None
    acceptance_criteria: str | None = None
    sprint: str | None = None
    epic_link: str | None = None


class Link(BaseModel):
    """An issue link as the story sees it."""

    model_config = ConfigDict(frozen=True)

    relation: str  # e.g. "blocks", "is blocked by", "relates to"
    key: str
    summary: str = ""
    done: bool = False


class Story(BaseModel):
    """What the analysis reads of an issue."""

    model_config = ConfigDict(frozen=True)

    key: str
    summary: str
    description: str = ""
    acceptance_criteria: list[str] = Field(default_factory=list)
    criteria_source: str | None = None  # "field", "description" or None
    issue_type: str = ""
    status: str = ""
    components: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    parent: str | None = None  # parent issue or epic key
    sprint: str | None = None
    points: float | None = None


def rich_text(value: Any) -> str:
    """A description-like value (v3 ADF, v2/DC wiki string) as plain text."""
    if is_adf(value):
        return adf_to_text(value)
    return wiki_to_text(value) if isinstance(value, str) else ""


def _items(lines: list[str]) -> list[str]:
    out = [_ITEM.sub("", line).strip() for line in lines]
    return [line for line in out if line]


def _section_end(lines: list[str], start: int) -> int:
    """Where a criteria section ends: the next heading, or a paragraph that is not a list."""
    end = start
    while end < len(lines) and not _OTHER_HEADING.match(lines[end]):
        if not lines[end].strip():
            following = next((line for line in lines[end:] if line.strip()), "")
            if following and not _ITEM.match(following) and end > start:
                break
        end += 1
    return end


def criteria_from_description(text: str) -> tuple[str, list[str]]:
    """Split an "Acceptance criteria" section off a description: (the rest, the criteria)."""
    lines = text.split("\n")
    for start, line in enumerate(lines):
        found = _AC_HEADING.match(line)
        if found is None:
            continue
        end = _section_end(lines, start + 1)
        criteria = _items(([found.group(2)] if found.group(2) else []) + lines[start + 1 : end])
        rest = "\n".join(lines[:start] + lines[end:]).strip()
        return rest, criteria
    return text, []


def _name(value: Any) -> str:
    return str(value.get("name") or value.get("value") or "") if isinstance(value, dict) else ""


def _links(raw: Any) -> list[Link]:
    out: list[Link] = []
    for link in raw if isinstance(raw, list) else []:
        kind = link.get("type") or {}
        for side, relation in (("outwardIssue", "outward"), ("inwardIssue", "inward")):
            other = link.get(side)
            if isinstance(other, dict) and other.get("key"):
                fields = other.get("fields") or {}
                category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
                out.append(
                    Link(
                        relation=str(kind.get(relation) or kind.get("name") or "relates to"),
                        key=str(other["key"]),
                        summary=str(fields.get("summary") or ""),
                        done=category == "done",
                    )
                )
    return out


def _sprint(raw: Any) -> str | None:
    sprints = raw if isinstance(raw, list) else [raw] if raw else []
    names = [s.get("name") for s in sprints if isinstance(s, dict) and s.get("name")]
    active = [s.get("name") for s in sprints if isinstance(s, dict) and s.get("state") == "active"]
    return (active or names or [None])[-1]


def _parent(fields: dict[str, Any], ids: FieldIds) -> str | None:
    parent = fields.get("parent")
    if isinstance(parent, dict) and parent.get("key"):
        return str(parent["key"])
    epic = fields.get(ids.epic_link) if ids.epic_link else None
    return epic if isinstance(epic, str) and epic else None


def _criteria(
    fields: dict[str, Any], ids: FieldIds, text: str
) -> tuple[str, list[str], str | None]:
    raw = fields.get(ids.acceptance_criteria) if ids.acceptance_criteria else None
    from_field = _items(rich_text(raw).split("\n")) if raw else []
    if from_field:
        return text, from_field, "field"
    rest, found = criteria_from_description(text)
    return (rest, found, "description") if found else (text, [], None)


def story_from_issue(issue: dict[str, Any], ids: FieldIds) -> Story:
    """The ``Story`` of a REST issue bean (v2, v3 or Data Center)."""
    fields = issue.get("fields") or {}
    description, criteria, source = _criteria(fields, ids, rich_text(fields.get("description")))
    points = fields.get(ids.story_points) if ids.story_points else None
    return Story(
        key=str(issue.get("key", "")),
        summary=str(fields.get("summary") or ""),
        description=description,
        acceptance_criteria=criteria,
        criteria_source=source,
        issue_type=_name(fields.get("issuetype")),
        status=_name(fields.get("status")),
        components=[_name(c) for c in fields.get("components") or [] if _name(c)],
        labels=[str(label) for label in fields.get("labels") or []],
        links=_links(fields.get("issuelinks")),
        parent=_parent(fields, ids),
        sprint=_sprint(fields.get(ids.sprint)) if ids.sprint else None,
        points=float(points) if isinstance(points, int | float) else None,
    )
