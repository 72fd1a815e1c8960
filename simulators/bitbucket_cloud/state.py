"""In-memory state of the Bitbucket Cloud simulator (repositories are bare git repos on disk)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulators.bitbucket_cloud.git_repo import GitRepo
from simulators.config import SimulatorConfig
from simulators.webhooks_out import WebhookSender


def now_iso() -> str:
    """Current time the way Bitbucket Cloud writes it (ISO-8601 with microseconds, +00:00)."""
    return datetime.now(UTC).isoformat()


def new_uuid() -> str:
    """A Bitbucket-style ``{uuid}``."""
    return "{" + str(uuid.uuid4()) + "}"


@dataclass
class Repo:
    """One repository of a workspace."""

    workspace: str
    slug: str
    git: GitRepo
    name: str = ""
    description: str = ""
    is_private: bool = True
    mainbranch: str = "main"
    uuid: str = field(default_factory=new_uuid)
    created_on: str = field(default_factory=now_iso)

    @property
    def full_name(self) -> str:
        """``workspace/slug``."""
        return f"{self.workspace}/{self.slug}"


@dataclass
class Comment:
    """A pull request comment; ``inline`` is ``{path, from, to}`` for code comments."""

    id: int
    pr_id: int
    raw: str
    author: str  # account id
    inline: dict[str, Any] | None = None
    parent_id: int | None = None
    deleted: bool = False
    created_on: str = field(default_factory=now_iso)
    updated_on: str = field(default_factory=now_iso)
    resolution: dict[str, Any] | None = None  # {"user": account id, "created_on": ...}


@dataclass
class PullRequest:
    """A pull request between two branches of one repository."""

    id: int
    title: str
    description: str
    source_branch: str
    dest_branch: str
    author: str
    source_hash: str
    dest_hash: str
    close_source_branch: bool = False
    draft: bool = False
    state: str = "OPEN"
    reason: str = ""
    merge_commit: str | None = None
    reviewers: list[str] = field(default_factory=list)
    # account id -> {"approved": bool, "state": None | "approved" | "changes_requested"}
    participants: dict[str, dict[str, Any]] = field(default_factory=dict)
    activity: list[dict[str, Any]] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    created_on: str = field(default_factory=now_iso)
    updated_on: str = field(default_factory=now_iso)


@dataclass
class CloudState:
    """Everything the Cloud simulator knows; one per app."""

    config: SimulatorConfig
    sender: WebhookSender
    repos: dict[str, Repo] = field(default_factory=dict)
    pullrequests: dict[str, dict[int, PullRequest]] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    reports: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    annotations: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def git_root(self) -> Path:
        """Directory holding ``{workspace}/{slug}.git`` bare repositories."""
        return self.config.data_dir.resolve() / "bitbucket-cloud"

    def create_repo(self, workspace: str, slug: str, **fields: Any) -> Repo:
        """Create (or reopen from disk) a repository with a bare git repo behind it."""
        git = GitRepo.init_bare(self.git_root / workspace / f"{slug}.git")
        repo = Repo(workspace, slug, git, name=fields.pop("name", None) or slug, **fields)
        self.repos[repo.full_name] = repo
        self.pullrequests.setdefault(repo.full_name, {})
        return repo

    def next_comment_id(self) -> int:
        """Comment ids are global in Bitbucket Cloud."""
        return max(self.comments, default=0) + 1
