"""In-memory state of one simulated Jira site: users, projects, fields, issues, boards, webhooks."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from simulators.auth import accounts, demo_account_id
from simulators.config import SimulatorConfig

# Workflow: id -> (name, status category key). Category keys are Jira's: new, indeterminate, done.
STATUSES: dict[str, tuple[str, str]] = {
    "10000": ("To Do", "new"),
    "3": ("In Progress", "indeterminate"),
    "10001": ("Done", "done"),
}
CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
# Transition id -> target status id; every status is reachable from every other one.
TRANSITIONS: dict[str, str] = {"11": "10000", "21": "3", "31": "10001"}
ISSUE_TYPES: dict[str, str] = {
    "10001": "Story",
    "10002": "Bug",
    "10003": "Task",
    "10004": "Sub-task",
}
SUBTASK_TYPE = "10004"  # needs a parent; created as a child of a story (POST issue, fields.parent)
PRIORITIES: dict[str, str] = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low"}
STORY_POINTS = "Story Points"
STORY_POINT_ESTIMATE = "Story point estimate"


def jira_now() -> str:
    """Now in Jira's timestamp format (milliseconds, numeric offset)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


@dataclass
class User:
    """A Jira user: Cloud knows them by account id, Data Center by ``username``."""

    account_id: str
    display_name: str
    email: str
    username: str = ""


@dataclass
class Project:
    """A company-managed software project with one scrum board."""

    id: str
    key: str
    name: str
    lead: str
    board_id: int


@dataclass
class Comment:
    """An issue comment; ``body`` is wiki markup, ``adf`` the v3 document when one was given."""

    id: str
    author: str
    body: str
    adf: dict[str, Any] | None
    created: str
    updated: str


@dataclass
class Issue:
    """An issue: ``fields`` holds raw values keyed by field id (custom fields included)."""

    id: str
    key: str
    project_key: str
    fields: dict[str, Any]
    comments: list[Comment] = field(default_factory=list)
    changelog: list[dict[str, Any]] = field(default_factory=list)
    remote_links: list[dict[str, Any]] = field(default_factory=list)  # as Jira answers them


@dataclass
class Webhook:
    """A registered webhook: admin (signed with ``secret``) or dynamic (``/rest/api/x/webhook``)."""

    id: int
    name: str
    url: str
    events: list[str]
    jql: str | None
    secret: str | None
    enabled: bool = True


@dataclass
class JiraState:
    """Everything one Jira site holds; a fresh instance is an empty site with the demo project."""

    config: SimulatorConfig
    flavour: Literal["cloud", "dc"] = "cloud"  # dc: Data Center (REST v2 only, user names)
    mount: str = "/jira"  # where the combined server mounts this site
    story_points_id: str = ""
    estimate_id: str = ""
    users: dict[str, User] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    issues: dict[str, Issue] = field(default_factory=dict)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    next_issue_id: int = 10000
    next_comment_id: int = 10000
    next_id: int = 1

    def __post_init__(self) -> None:
        # Custom field ids differ between real sites; clients must discover them, so do we.
        ids = random.sample(range(10100, 10999), 2)
        self.story_points_id = self.story_points_id or f"customfield_{ids[0]}"
        self.estimate_id = self.estimate_id or f"customfield_{ids[1]}"
        for account in accounts(self.config):
            user = User(account.account_id, account.display_name, account.email, account.username)
            self.users[user.account_id] = user
        self.add_project("DEMO", "Demo project")

    def reset(self) -> None:
        """Back to an empty site with the demo project; custom field ids stay the same."""
        self.__init__(  # type: ignore[misc]  # re-running the dataclass init is the reset
            config=self.config,
            flavour=self.flavour,
            mount=self.mount,
            story_points_id=self.story_points_id,
            estimate_id=self.estimate_id,
        )

    @property
    def me(self) -> User:
        """The demo user (owner of every API token and OAuth grant)."""
        return self.users[demo_account_id(self.config)]

    @property
    def site(self) -> str:
        """Absolute URL of this site (the combined server mounts Jira at ``mount``)."""
        return self.config.base_url.rstrip("/") + self.mount

    def new_id(self) -> int:
        """A fresh small integer id (projects, boards, webhooks)."""
        self.next_id += 1
        return self.next_id

    def add_project(self, key: str, name: str) -> Project:
        """Create a project and its board (board id == project position)."""
        project = Project(str(10000 + len(self.projects)), key, name, self.me.account_id, 0)
        project.board_id = len(self.projects) + 1
        self.projects[key] = project
        return project

    def project(self, id_or_key: str) -> Project | None:
        """A project by key or id."""
        found = self.projects.get(id_or_key.upper())
        return found or next((p for p in self.projects.values() if p.id == id_or_key), None)

    def board(self, board_id: int) -> Project | None:
        """The project whose board has ``board_id``."""
        return next((p for p in self.projects.values() if p.board_id == board_id), None)

    def issue(self, id_or_key: str) -> Issue | None:
        """An issue by key (case-insensitive) or numeric id."""
        found = self.issues.get(id_or_key.upper())
        return found or next((i for i in self.issues.values() if i.id == id_or_key), None)

    def create_issue(
        self, project: Project, fields: dict[str, Any], reporter: str | None = None
    ) -> Issue:
        """Store a new issue in status To Do with the given (already validated) field values."""
        self.next_issue_id += 1
        number = 1 + sum(1 for i in self.issues.values() if i.project_key == project.key)
        now = jira_now()
        base: dict[str, Any] = {
            "summary": "",
            "description": None,
            "issuetype": "10001",
            "status": "10000",
            "labels": [],
            "priority": "3",
            "created": now,
            "updated": now,
            "resolutiondate": None,
            "reporter": reporter or self.me.account_id,
            "assignee": None,
            self.story_points_id: None,
            self.estimate_id: None,
        }
        issue = Issue(str(self.next_issue_id), f"{project.key}-{number}", project.key, base)
        issue.fields.update(fields)
        self.issues[issue.key] = issue
        return issue

    def set_status(self, issue: Issue, status_id: str) -> None:
        """Move an issue; entering a done status resolves it, leaving one unresolves it."""
        done = STATUSES[status_id][1] == "done"
        issue.fields["status"] = status_id
        if done and not issue.fields.get("resolutiondate"):
            issue.fields["resolutiondate"] = jira_now()
        if not done:
            issue.fields["resolutiondate"] = None

    def add_comment(
        self, issue: Issue, body: str, adf: dict[str, Any] | None, author: str | None = None
    ) -> Comment:
        """Append a comment by ``author`` (an account id; the demo user when not given)."""
        self.next_comment_id += 1
        now = jira_now()
        who = author or self.me.account_id
        comment = Comment(str(self.next_comment_id), who, body, adf, now, now)
        issue.comments.append(comment)
        issue.fields["updated"] = now
        return comment
