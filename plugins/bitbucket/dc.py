"""Bitbucket Data Center REST 1.0 and Code Insights 1.0 (``base_url`` is the server's root URL).

Paging uses ``start``/``limit`` until ``isLastPage``. Comments are markdown (``text``); inline
ones carry an ``anchor`` on the new side (``lineType: ADDED``, ``fileType: TO``). Edits send the
comment's ``version``; a 409 (someone edited it meanwhile) reads it again and retries once.
Resolving a finding replies "fixed in <commit>" and sets the comment's ``state`` to RESOLVED
(Bitbucket 7.x and later; an older server refuses the state and keeps the reply).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from plugins.bitbucket.client import FileChange, Inline, PostedComment, PullRequest, ServerInfo
from plugins.bitbucket.errors import BitbucketBadRequest, BitbucketConflict, BitbucketNotFound
from plugins.bitbucket.events import Actor, Flavour, RepoRef
from plugins.bitbucket.insights import InsightsReport
from plugins.bitbucket.transport import RetrySettings, Transport

LIMIT = 100
MAX_PAGES = 200
_STATUS = {"ADD": "added", "DELETE": "removed", "MOVE": "renamed", "RENAME": "renamed"}


def _actor(raw: Any) -> Actor:
    raw = raw if isinstance(raw, dict) else {}
    name = str(raw.get("name") or raw.get("slug") or "")
    return Actor(
        id=str(raw.get("id") or name), name=name, display_name=str(raw.get("displayName") or "")
    )


def _comment(raw: dict[str, Any]) -> PostedComment:
    anchor = raw.get("anchor") or None
    inline = None
    if anchor and anchor.get("path") and anchor.get("line"):
        inline = Inline(path=anchor["path"], line=int(anchor["line"]))
    return PostedComment(
        id=int(raw["id"]),
        text=str(raw.get("text") or ""),
        author=_actor(raw.get("author")),
        version=int(raw.get("version") or 0),
        resolved=raw.get("state") == "RESOLVED" or bool(raw.get("threadResolved")),
        parent_id=(raw.get("parent") or {}).get("id"),
        inline=inline,
    )


class DcClient:
    """One Bitbucket Data Center server, as the agent's account."""

    flavour: Flavour = "dc"

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, retry: RetrySettings | None = None
    ) -> None:
        self.t = Transport(http, base_url, retry)

    @staticmethod
    def _repo(repo: RepoRef) -> str:
        return f"/rest/api/1.0/projects/{quote(repo.owner)}/repos/{quote(repo.slug)}"

    def _pr(self, repo: RepoRef, pr_id: int) -> str:
        return f"{self._repo(repo)}/pull-requests/{pr_id}"

    async def _pages(self, path: str, **params: Any) -> AsyncIterator[dict[str, Any]]:
        start = 0
        for _ in range(MAX_PAGES):
            page = await self.t.json("GET", path, params={"start": start, "limit": LIMIT, **params})
            for value in page.get("values") or []:
                yield value
            if page.get("isLastPage", True) or page.get("nextPageStart") is None:
                return
            start = int(page["nextPageStart"])
        raise BitbucketConflict(f"{path}: more than {MAX_PAGES} pages")

    async def server_info(self) -> ServerInfo:
        """Version and name (``/rest/api/1.0/application-properties``)."""
        raw = await self.t.json("GET", "/rest/api/1.0/application-properties")
        return ServerInfo(
            flavour="dc",
            version=str(raw.get("version") or ""),
            display_name=str(raw.get("displayName") or ""),
        )

    async def whoami(self) -> Actor:
        """The account the token belongs to (``/plugins/servlet/applinks/whoami``)."""
        response = await self.t.request("GET", "/plugins/servlet/applinks/whoami")
        name = response.text.strip()
        if not name:
            raise BitbucketNotFound("whoami answered no user name (anonymous access?)")
        return Actor(id=name, name=name)

    async def repository(self, repo: RepoRef) -> dict[str, object]:
        """The repository object."""
        found: dict[str, object] = await self.t.json("GET", self._repo(repo))
        return found

    async def pull_request(self, repo: RepoRef, pr_id: int) -> PullRequest:
        """One pull request (with its ``version``)."""
        raw = await self.t.json("GET", self._pr(repo, pr_id))
        links = (raw.get("links") or {}).get("self") or [{}]
        return PullRequest(
            id=int(raw["id"]),
            title=str(raw.get("title") or ""),
            description=str(raw.get("description") or ""),
            state=str(raw.get("state") or "OPEN"),
            draft=bool(raw.get("draft")),
            source_branch=raw["fromRef"]["displayId"],
            target_branch=raw["toRef"]["displayId"],
            head=raw["fromRef"]["latestCommit"],
            base=raw["toRef"]["latestCommit"],
            author=_actor((raw.get("author") or {}).get("user")),
            url=links[0].get("href"),
            version=int(raw.get("version") or 0),
        )

    async def diff(self, repo: RepoRef, pr_id: int) -> str:
        """The unified diff of the pull request (``…/pull-requests/{id}.diff``)."""
        response = await self.t.request("GET", f"{self._pr(repo, pr_id)}.diff")
        return response.text

    async def changes(self, repo: RepoRef, pr_id: int) -> list[FileChange]:
        """The changed files (``…/changes``)."""
        out = []
        async for raw in self._pages(f"{self._pr(repo, pr_id)}/changes"):
            path = (raw.get("path") or {}).get("toString") or ""
            status = _STATUS.get(str(raw.get("type")), "modified")
            old = (raw.get("srcPath") or {}).get("toString") if status == "renamed" else None
            out.append(FileChange(path=path, status=status, old_path=old))
        return out

    async def commit_messages(self, repo: RepoRef, pr_id: int, limit: int = 200) -> list[str]:
        """Messages of the pull request's commits, newest first."""
        out: list[str] = []
        async for raw in self._pages(f"{self._pr(repo, pr_id)}/commits"):
            out.append(str(raw.get("message") or ""))
            if len(out) >= limit:
                break
        return out

    async def file_at(self, repo: RepoRef, commit: str, path: str) -> bytes | None:
        """A file's bytes at ``commit`` (``…/raw/{path}?at=``); ``None`` when it is not there."""
        try:
            response = await self.t.request(
                "GET", f"{self._repo(repo)}/raw/{quote(path)}", params={"at": commit}
            )
        except BitbucketNotFound:
            return None
        return response.content

    async def comments(self, repo: RepoRef, pr_id: int) -> list[PostedComment]:
        """Every comment of the pull request, from its activities."""
        out = []
        async for raw in self._pages(f"{self._pr(repo, pr_id)}/activities"):
            if raw.get("action") == "COMMENTED" and isinstance(raw.get("comment"), dict):
                out.append(_comment(raw["comment"]))
        return out

    async def comment(self, repo: RepoRef, pr_id: int, comment_id: int) -> PostedComment:
        """One comment (with its current ``version``)."""
        return _comment(await self.t.json("GET", f"{self._pr(repo, pr_id)}/comments/{comment_id}"))

    async def add_comment(
        self,
        repo: RepoRef,
        pr_id: int,
        text: str,
        *,
        inline: Inline | None = None,
        parent_id: int | None = None,
    ) -> PostedComment:
        """Post a comment (never re-sent after an ambiguous failure; see ``transport``)."""
        body: dict[str, Any] = {"text": text}
        if inline is not None:
            body["anchor"] = {
                "path": inline.path,
                "line": inline.line,
                "lineType": "ADDED",
                "fileType": "TO",
                "diffType": "EFFECTIVE",
            }
        if parent_id is not None:
            body["parent"] = {"id": parent_id}
        raw = await self.t.json("POST", f"{self._pr(repo, pr_id)}/comments", json=body)
        return _comment(raw)

    async def _put(
        self, repo: RepoRef, pr_id: int, comment_id: int, change: dict[str, Any]
    ) -> PostedComment:
        path = f"{self._pr(repo, pr_id)}/comments/{comment_id}"
        for attempt in (1, 2):
            current = await self.comment(repo, pr_id, comment_id)
            try:
                raw = await self.t.json("PUT", path, json=change | {"version": current.version})
            except BitbucketConflict:
                if attempt == 2:
                    raise
                continue  # edited meanwhile: read the new version once more
            return _comment(raw)
        raise AssertionError("unreachable")

    async def edit_comment(
        self, repo: RepoRef, pr_id: int, comment_id: int, text: str
    ) -> PostedComment:
        """Replace a comment's text (the summary, edited in place)."""
        return await self._put(repo, pr_id, comment_id, {"text": text})

    async def resolve_comment(
        self, repo: RepoRef, pr_id: int, comment_id: int, reply: str | None = None
    ) -> None:
        """Reply (e.g. "fixed in <commit>"), then mark the comment RESOLVED where supported."""
        if reply:
            await self.add_comment(repo, pr_id, reply, parent_id=comment_id)
        try:
            await self._put(repo, pr_id, comment_id, {"state": "RESOLVED"})
        except BitbucketBadRequest:
            return  # a server without comment states: the reply says it

    async def reopen_comment(
        self, repo: RepoRef, pr_id: int, comment_id: int, reply: str | None = None
    ) -> None:
        """Reply (e.g. "back in <commit>"), then mark the comment OPEN again."""
        if reply:
            await self.add_comment(repo, pr_id, reply, parent_id=comment_id)
        try:
            await self._put(repo, pr_id, comment_id, {"state": "OPEN"})
        except BitbucketBadRequest:
            return

    def _report(self, repo: RepoRef, commit: str, key: str) -> str:
        return (
            f"/rest/insights/1.0/projects/{quote(repo.owner)}/repos/{quote(repo.slug)}"
            f"/commits/{quote(commit)}/reports/{quote(key)}"
        )

    async def put_report(self, repo: RepoRef, commit: str, report: InsightsReport) -> None:
        """Replace the commit's report and its annotations (delete, put, annotations)."""
        path = self._report(repo, commit, report.key)
        try:
            await self.t.request("DELETE", path)
        except BitbucketNotFound:
            pass
        await self.t.request("PUT", path, json=report.report)
        for batch in report.batches(1000):
            await self.t.request(
                "POST", f"{path}/annotations", json={"annotations": batch}, idempotent=True
            )

    async def get_report(self, repo: RepoRef, commit: str, key: str) -> dict[str, object]:
        """The report as stored."""
        found: dict[str, object] = await self.t.json("GET", self._report(repo, commit, key))
        return found

    async def annotations(self, repo: RepoRef, commit: str, key: str) -> list[dict[str, object]]:
        """Every annotation of the report."""
        raw = await self.t.json("GET", self._report(repo, commit, key) + "/annotations")
        return list(raw.get("annotations") or [])
