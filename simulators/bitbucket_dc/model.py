"""State and JSON shapes of the Bitbucket Data Center simulator."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from simulators.auth import DEMO_DISPLAY_NAME, accounts
from simulators.bitbucket_cloud.git_repo import GitRepo
from simulators.config import SimulatorConfig
from simulators.webhooks_out import WebhookSender

DateStyle = Literal["epoch_ms", "iso"]


def now_ms() -> int:
    """Current time in epoch milliseconds (how DC stores every date)."""
    return int(time.time() * 1000)


@dataclass
class DcComment:
    """A PR comment; ``anchor`` makes it an inline (file/line) comment."""

    id: int
    text: str
    anchor: dict[str, Any] | None = None
    parent_id: int | None = None
    version: int = 0
    created: int = field(default_factory=now_ms)
    updated: int = field(default_factory=now_ms)
    author_email: str | None = None  # None: the demo user
    state: str = "OPEN"  # OPEN or RESOLVED (Bitbucket 7.x+)
    severity: str = "NORMAL"  # NORMAL or BLOCKER (a task)


@dataclass
class DcPullRequest:
    """A pull request of one repository."""

    id: int
    title: str
    description: str
    from_branch: str
    to_branch: str
    from_hash: str
    to_hash: str
    state: str = "OPEN"
    version: int = 0
    merge_commit: str | None = None
    author_email: str | None = None  # None: the demo user
    comments: list[DcComment] = field(default_factory=list)
    created: int = field(default_factory=now_ms)
    updated: int = field(default_factory=now_ms)


@dataclass
class DcRepo:
    """A repository of a project, a bare git repo on disk."""

    project: str
    slug: str
    id: int
    git: GitRepo
    prs: dict[int, DcPullRequest] = field(default_factory=dict)


@dataclass
class DcState:
    """Everything the DC simulator knows; one per app."""

    config: SimulatorConfig
    sender: WebhookSender
    date_style: DateStyle = "epoch_ms"
    repos: dict[tuple[str, str], DcRepo] = field(default_factory=dict)
    reports: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    annotations: dict[tuple[str, str, str, str], list[dict[str, Any]]] = field(default_factory=dict)
    web: str = ""  # set per request: public base URL + mount prefix

    @property
    def git_root(self) -> Path:
        """Directory holding ``{PROJECT}/{slug}.git``."""
        return self.config.data_dir.resolve() / "bitbucket-dc"

    def create_repo(self, project: str, slug: str) -> DcRepo:
        """Create (or reopen from disk) a repository."""
        git = GitRepo.init_bare(self.git_root / project / f"{slug}.git")
        repo = DcRepo(project, slug, len(self.repos) + 1, git)
        self.repos[(project, slug)] = repo
        return repo

    def date(self, epoch_ms: int) -> int | str:
        """A date in the configured style: epoch ms (classic) or ISO-8601 (DC 10.x webhooks)."""
        if self.date_style == "epoch_ms":
            return epoch_ms
        return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="seconds")

    def user(self, email: str | None = None) -> dict[str, Any]:
        """The account with ``email`` (the demo user by default), as DC shows users."""
        known = next((a for a in accounts(self.config) if a.email == email), None)
        name = known.username if known else self.config.user_email.split("@")[0]
        number = 1 + next((i for i, a in enumerate(accounts(self.config)) if a is known), 0)
        return {
            "name": name,
            "emailAddress": known.email if known else self.config.user_email,
            "id": number,
            "displayName": known.display_name if known else DEMO_DISPLAY_NAME,
            "active": True,
            "slug": name,
            "type": "NORMAL",
            "links": {"self": [{"href": f"{self.web}/users/{name}"}]},
        }

    def project(self, key: str) -> dict[str, Any]:
        """A project object."""
        return {
            "key": key,
            "id": abs(hash(key)) % 10_000,
            "name": key,
            "public": False,
            "type": "NORMAL",
            "links": {"self": [{"href": f"{self.web}/projects/{key}"}]},
        }

    def repository(self, repo: DcRepo) -> dict[str, Any]:
        """A repository object with its clone links."""
        base = f"{self.web}/projects/{repo.project}/repos/{repo.slug}"
        return {
            "slug": repo.slug,
            "id": repo.id,
            "name": repo.slug,
            "scmId": "git",
            "state": "AVAILABLE",
            "statusMessage": "Available",
            "forkable": True,
            "project": self.project(repo.project),
            "public": False,
            "links": {
                "clone": [
                    {"href": f"{self.web}/scm/{repo.project}/{repo.slug}.git", "name": "http"}
                ],
                "self": [{"href": f"{base}/browse"}],
            },
        }

    def ref(self, repo: DcRepo, branch: str, hash_: str) -> dict[str, Any]:
        """``fromRef`` / ``toRef``."""
        return {
            "id": f"refs/heads/{branch}",
            "displayId": branch,
            "latestCommit": hash_,
            "type": "BRANCH",
            "repository": self.repository(repo),
        }

    def pull_request(self, repo: DcRepo, pr: DcPullRequest) -> dict[str, Any]:
        """A pull request object."""
        author = {
            "user": self.user(pr.author_email),
            "role": "AUTHOR",
            "approved": False,
            "status": "UNAPPROVED",
        }
        href = f"{self.web}/projects/{repo.project}/repos/{repo.slug}/pull-requests/{pr.id}"
        body: dict[str, Any] = {
            "id": pr.id,
            "version": pr.version,
            "title": pr.title,
            "description": pr.description,
            "state": pr.state,
            "open": pr.state == "OPEN",
            "closed": pr.state != "OPEN",
            "draft": False,
            "createdDate": self.date(pr.created),
            "updatedDate": self.date(pr.updated),
            "fromRef": self.ref(repo, pr.from_branch, pr.from_hash),
            "toRef": self.ref(repo, pr.to_branch, pr.to_hash),
            "locked": False,
            "author": author,
            "reviewers": [],
            "participants": [],
            "links": {"self": [{"href": href}]},
        }
        if pr.merge_commit:
            body["properties"] = {
                "mergeCommit": {"displayId": pr.merge_commit[:11], "id": pr.merge_commit}
            }
        return body

    def comment(self, c: DcComment) -> dict[str, Any]:
        """A comment object (``anchor`` only on inline comments)."""
        body: dict[str, Any] = {
            "id": c.id,
            "version": c.version,
            "text": c.text,
            "author": self.user(c.author_email),
            "createdDate": self.date(c.created),
            "updatedDate": self.date(c.updated),
            "severity": c.severity,
            "state": c.state,
            "threadResolved": c.state == "RESOLVED",
            "comments": [],
            "tasks": [],
            "properties": {"repositoryId": 1},
        }
        if c.anchor:
            body["anchor"] = c.anchor
        if c.parent_id is not None:
            body["parent"] = {"id": c.parent_id}
        return body

    def emit(
        self, repo: DcRepo, pr: DcPullRequest, event: str, actor: str | None = None, **extra: Any
    ) -> None:
        """Send a ``pr:*`` webhook (eventKey, date, actor, pullRequest + extras)."""
        payload = {
            "eventKey": event,
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z"),
            "actor": self.user(actor),
            "pullRequest": self.pull_request(repo, pr),
        } | extra
        self.sender.emit("bitbucket-dc", event, payload, scope=f"{repo.project}/{repo.slug}")
