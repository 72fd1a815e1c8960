"""The Bitbucket REST APIs (Cloud 2.0, Data Center 1.0) behind one interface: the agent's only HTTP.

``client_for(flavour, http, base_url)`` gives a ``CloudClient`` (``cloud.py``) or a ``DcClient``
(``dc.py``); both return the typed results below, page through collections, and retry within
bounds (``transport.py``). What differs is said where it matters:

- a comment's identity is its id on both; Data Center edits also need its ``version`` (a stale
  one is a 409: the client reads the comment again and retries once);
- resolving a finding: Cloud resolves the comment thread (``POST …/comments/{id}/resolve``); Data
  Center replies "fixed in <commit>" and sets the comment's ``state`` to RESOLVED;
- Code Insights: Cloud ``…/commit/{c}/reports/{key}`` + bulk ``annotations`` (100 per post),
  Data Center ``/rest/insights/1.0/…/commits/{c}/reports/{key}`` + ``annotations``.
"""

from __future__ import annotations

from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from plugins.bitbucket.events import Actor, Flavour, RepoRef
from plugins.bitbucket.insights import InsightsReport
from plugins.bitbucket.transport import RetrySettings

__all__ = [
    "BitbucketClient",
    "FileChange",
    "Inline",
    "PostedComment",
    "PullRequest",
    "ServerInfo",
    "client_for",
]


class PullRequest(BaseModel):
    """A pull request as the API shows it (full commit hashes)."""

    model_config = ConfigDict(frozen=True)

    id: int
    title: str
    description: str = ""
    state: str
    draft: bool = False
    source_branch: str
    target_branch: str
    head: str
    base: str
    author: Actor
    url: str | None = None
    version: int | None = None  # Data Center's optimistic lock


class FileChange(BaseModel):
    """One changed file of a pull request."""

    model_config = ConfigDict(frozen=True)

    path: str
    status: Literal["added", "modified", "removed", "renamed"]
    old_path: str | None = None


class Inline(BaseModel):
    """Where an inline comment goes: a line of the new side of a file."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int


class PostedComment(BaseModel):
    """A comment Bitbucket holds."""

    model_config = ConfigDict(frozen=True)

    id: int
    text: str
    author: Actor
    version: int | None = None
    resolved: bool = False
    parent_id: int | None = None
    inline: Inline | None = None


class ServerInfo(BaseModel):
    """What the server says it is."""

    model_config = ConfigDict(frozen=True)

    flavour: Flavour
    version: str = ""
    display_name: str = ""


class BitbucketClient(Protocol):
    """What the agent does on a Bitbucket server (``CloudClient`` and ``DcClient``)."""

    flavour: Flavour

    async def server_info(self) -> ServerInfo: ...

    async def whoami(self) -> Actor: ...

    async def repository(self, repo: RepoRef) -> dict[str, object]: ...

    async def pull_request(self, repo: RepoRef, pr_id: int) -> PullRequest: ...

    async def diff(self, repo: RepoRef, pr_id: int) -> str: ...

    async def changes(self, repo: RepoRef, pr_id: int) -> list[FileChange]: ...

    async def commit_messages(self, repo: RepoRef, pr_id: int, limit: int = 200) -> list[str]: ...

    async def file_at(self, repo: RepoRef, commit: str, path: str) -> bytes | None: ...

    async def comments(self, repo: RepoRef, pr_id: int) -> list[PostedComment]: ...

    async def comment(self, repo: RepoRef, pr_id: int, comment_id: int) -> PostedComment: ...

    async def add_comment(
        self,
        repo: RepoRef,
        pr_id: int,
        text: str,
        *,
        inline: Inline | None = None,
        parent_id: int | None = None,
    ) -> PostedComment: ...

    async def edit_comment(
        self, repo: RepoRef, pr_id: int, comment_id: int, text: str
    ) -> PostedComment: ...

    async def resolve_comment(
        self, repo: RepoRef, pr_id: int, comment_id: int, reply: str | None = None
    ) -> None: ...

    async def reopen_comment(
        self, repo: RepoRef, pr_id: int, comment_id: int, reply: str | None = None
    ) -> None: ...

    async def put_report(self, repo: RepoRef, commit: str, report: InsightsReport) -> None: ...

    async def get_report(self, repo: RepoRef, commit: str, key: str) -> dict[str, object]: ...

    async def annotations(
        self, repo: RepoRef, commit: str, key: str
    ) -> list[dict[str, object]]: ...


def client_for(
    flavour: Flavour,
    http: httpx.AsyncClient,
    base_url: str,
    retry: RetrySettings | None = None,
) -> BitbucketClient:
    """The client of a Cloud workspace or a Data Center server (``base_url`` without the API)."""
    if flavour == "cloud":
        from plugins.bitbucket.cloud import CloudClient

        return CloudClient(http, base_url, retry)
    from plugins.bitbucket.dc import DcClient

    return DcClient(http, base_url, retry)
