"""Arranging a simulated Jira site for the agent's tests: projects, stories, people's comments.

Stories are arranged in the simulator's state (what a team made over months); people's
comments go through the REST API as that person, so the simulator sends its real webhooks.
"""

from __future__ import annotations

import csv
import secrets
from typing import Any

import httpx

from core.settings import Settings
from simulators.auth import Account, accounts
from simulators.config import SimulatorConfig
from simulators.jira.state import JiraState

STORY = (
    "As a shop owner I want to export invoices to CSV so that I can reconcile payments in my "
    "accounting tool.\n\nAcceptance criteria:\n- the export contains every invoice of the "
    "chosen month\n- amounts use two decimals"
)


def account(config: SimulatorConfig, username: str) -> Account:
    """A simulated person (``alice``, ``dcoder-agent``, …)."""
    return next(a for a in accounts(config) if a.username == username)


def new_project(state: JiraState) -> str:
    """A fresh project (its own key, so tests sharing a simulator stay apart)."""
    key = "P" + secrets.token_hex(3).upper().replace("0", "Q")
    state.add_project(key, f"Project {key}")
    return key


def history(state: JiraState, project: str, count: int) -> list[str]:
    """``count`` resolved stories with points of a real team (mesos), as the project's past."""
    path = Settings().contracts_dir.parent / "datasets" / "storypoints" / "mesos.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:count]
    found = state.project(project)
    assert found is not None
    keys = []
    for row in rows:
        issue = state.create_issue(found, {
            "summary": row["title"], "description": (row["description"] or "")[:1500],
            state.story_points_id: float(row["storypoint"]),
        })  # fmt: skip
        state.set_status(issue, "10001")
        keys.append(issue.key)
    return keys


def story(state: JiraState, project: str, summary: str = "Export invoices to CSV") -> str:
    """An open story to be analysed."""
    found = state.project(project)
    assert found is not None
    return state.create_issue(found, {"summary": summary, "description": STORY}).key


def comment(base: str, who: Account, key: str, text: str, dc: bool = False) -> dict[str, Any]:
    """``who`` comments on ``key`` through REST v2 (wiki text); the created comment."""
    auth = ("Authorization", f"Bearer {who.pat}") if dc else None
    headers = dict([auth]) if auth else {}
    response = httpx.post(
        f"{base}/rest/api/2/issue/{key}/comment", json={"body": text}, headers=headers,
        auth=None if dc else (who.email, who.api_token), timeout=10,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


def comment_created(created: dict[str, Any], key: str) -> dict[str, Any]:
    """The ``comment_created`` payload Jira sends for a comment (shape of the real capture)."""
    return {
        "timestamp": 1,
        "webhookEvent": "comment_created",
        "comment": created,
        "issue": {"id": "1", "key": key, "fields": {"summary": "x"}},
    }


def agent_comments(state: JiraState, key: str, agent: Account) -> list[Any]:
    """The comments the agent wrote on ``key``."""
    issue = state.issue(key)
    assert issue is not None
    who = agent.account_id
    return [c for c in issue.comments if c.author == who]


def fault(sim_url: str, **rule: Any) -> None:
    """Inject a simulator fault (``simulators/faults.py``)."""
    response = httpx.post(f"{sim_url}/_sim/faults", json=rule, timeout=10)
    assert response.status_code in (200, 201), response.text


def clear_faults(sim_url: str) -> None:
    """Remove every injected fault."""
    httpx.delete(f"{sim_url}/_sim/faults", timeout=10)


async def settle_jobs(harness: Any) -> list[str]:
    """Run the harness's jobs until none is queued (a sync's completion submits the fit);
    the kinds run, in order."""
    ran: list[str] = []
    while queued := harness.job_queue.queued():
        ran += [job.submission.kind for job in queued]
        await harness.run_jobs()
    return ran
