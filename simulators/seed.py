"""The demo tenant: a Jira project of resolved, estimated stories (from a story-points CSV), a
Confluence space, and (when part B's simulator is mounted) a Bitbucket repo with an open PR."""

from __future__ import annotations

import csv
import importlib
import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from simulators.jira.state import JiraState

log = logging.getLogger(__name__)
DEFAULT_LIMIT = 300


@dataclass
class SeedReport:
    """What was seeded."""

    jira_project: str = ""
    stories: int = 0
    confluence_space: str = ""
    bitbucket: list[str] = field(default_factory=list)


def _mounted(app: FastAPI, path: str) -> Any:
    return next(
        (getattr(r, "app", None) for r in app.routes if getattr(r, "path", "") == path), None
    )


def seed_jira(state: JiraState, csv_path: Path, limit: int = DEFAULT_LIMIT) -> tuple[str, int]:
    """Resolved, estimated stories, one per CSV row (issuekey,title,description,storypoint)."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:limit]
    if not rows or not {"issuekey", "title", "storypoint"} <= set(rows[0]):
        raise ValueError(
            f"{csv_path} is not a story-points CSV (issuekey,title,description,storypoint)"
        )
    key = rows[0]["issuekey"].split("-")[0].upper()
    project = state.project(key) or state.add_project(key, key.title())
    for row in rows:
        issue = state.create_issue(
            project,
            {
                "summary": row["title"],
                "description": row.get("description") or None,
                state.story_points_id: float(row["storypoint"]),
                "labels": ["seeded"],
            },
        )
        state.set_status(issue, "10001")
    return key, len(rows)


def seed_all(app: FastAPI, csv_path: Path, limit: int = DEFAULT_LIMIT) -> SeedReport:
    """Seed every mounted product of the combined ``app``."""
    report = SeedReport()
    jira = _mounted(app, "/jira")
    report.jira_project, report.stories = seed_jira(jira.state.jira, csv_path, limit)
    wiki = _mounted(app, "/wiki").state.confluence
    if "ENG" not in wiki.spaces:
        space = wiki.add_space("ENG", "Engineering")
        wiki.create_page(
            "ENG", "Architecture", "<p>How the demo service is built.</p>", space.homepage_id
        )
    report.confluence_space = "ENG"
    bitbucket = _mounted(app, "/bitbucket")
    if bitbucket is not None and importlib.util.find_spec("simulators.bitbucket_cloud.seed"):
        seeded = importlib.import_module("simulators.bitbucket_cloud.seed").seed_demo(bitbucket)
        report.bitbucket.append(str(seeded))
    return report
