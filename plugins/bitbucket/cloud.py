"""Bitbucket Cloud REST 2.0 (``base_url`` is ``https://api.bitbucket.org``; paths ``/2.0/...``).

Paging follows the absolute ``next`` link (same host only). ``…/pullrequests/{id}/diff`` answers
302 to ``…/diff/{spec}``; the redirect is followed on the same server. Comments are markdown
(``content.raw``); inline ones anchor on the new side with ``inline: {path, to}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from plugins.bitbucket.client import FileChange, Inline, PostedComment, PullRequest, ServerInfo
from plugins.bitbucket.errors import BitbucketConflict, BitbucketNotFound
from plugins.bitbucket.events import Actor, Flavour, RepoRef
from plugins.bitbucket.insights import InsightsReport
from plugins.bitbucket.transport import RetrySettings, Transport

PAGELEN = 50
MAX_PAGES = 200  # a server that pages forever must not hold the review


def _actor(raw: Any) -> Actor:
    raw = raw if isinstance(raw, dict) else {}
    return Actor(
        id=str(raw.get("account_id") or raw.get("uuid") or ""),
        name=str(raw.get("nickname") or raw.get("username") or ""),
        display_name=str(raw.get("display_name") or ""),
    )


def _comment(raw: dict[str, Any]) -> PostedComment:
    inline = raw.get("inline") or None
    return PostedComment(
        id=int(raw["id"]),
        text=str((raw.get("content") or {}).get("raw") or ""),
        author=_actor(raw.get("user")),
        resolved=raw.get("resolution") is not None,
        parent_id=(raw.get("parent") or {}).get("id"),
        inline=Inline(path=inline["path"], line=inline["to"])
        if inline and inline.get("to")
        else None,
    )


class CloudClient:
    """One Bitbucket Cloud account (the agent's)."""

    flavour: Flavour = "cloud"

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, retry: RetrySettings | None = None
    ) -> None:
        self.t = Transport(http, base_url, retry)

    @staticmethod
    def _repo(repo: RepoRef) -> str:
        return f"/2.0/repositories/{quote(repo.owner)}/{quote(repo.slug)}"

    async def _pages(self, path: str, **params: Any) -> AsyncIterator[dict[str, Any]]:
        url: str | None = path
        query: dict[str, Any] | None = {"pagelen": PAGELEN, **params}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            page = await self.t.json("GET", url, params=query)
            for value in page.get("values") or []:
                yield value
            url, query = page.get("next"), None  # ``next`` carries its own query
        raise BitbucketConflict(f"{path}: more than {MAX_PAGES} pages")

    async def server_info(self) -> ServerInfo:
        """Cloud has no version endpoint: the authenticated user proves the API answers."""
        await self.whoami()
        return ServerInfo(flavour="cloud", display_name="Bitbucket Cloud")

    async def whoami(self) -> Actor:
        """The account the credentials belong to (``GET /2.0/user``)."""
        return _actor(await self.t.json("GET", "/2.0/user"))

    async def repository(self, repo: RepoRef) -> dict[str, object]:
        """The repository object (``BitbucketNotFound`` when it does not exist or is hidden)."""
        found: dict[str, object] = await self.t.json("GET", self._repo(repo))
        return found

    async def pull_request(self, repo: RepoRef, pr_id: int) -> PullRequest:
        """One pull request with full hashes."""
        raw = await self.t.json("GET", f"{self._repo(repo)}/pullrequests/{pr_id}")
        return PullRequest(
            id=int(raw["id"]),
            title=str(raw.get("title") or ""),
            description=str(raw.get("description") or ""),
            state=str(raw.get("state") or "OPEN"),
            draft=bool(raw.get("draft")),
            source_branch=raw["source"]["branch"]["name"],
            target_branch=raw["destination"]["branch"]["name"],
            head=raw["source"]["commit"]["hash"],
            base=raw["destination"]["commit"]["hash"],
            author=_actor(raw.get("author")),
            url=((raw.get("links") or {}).get("html") or {}).get("href"),
        )

    async def diff(self, repo: RepoRef, pr_id: int) -> str:
        """The unified diff of the pull request (against the merge base)."""
        response = await self.t.request("GET", f"{self._repo(repo)}/pullrequests/{pr_id}/diff")
        return response.text

    async def changes(self, repo: RepoRef, pr_id: int) -> list[FileChange]:
        """The changed files (``diffstat``)."""
        out = []
        async for raw in self._pages(f"{self._repo(repo)}/pullrequests/{pr_id}/diffstat"):
            new, old = raw.get("new") or {}, raw.get("old") or {}
            status = raw.get("status", "modified")
            out.append(
                FileChange(
                    path=new.get("path") or old.get("path"),
                    status=status if status in ("added", "removed", "renamed") else "modified",
                    old_path=old.get("path") if status == "renamed" else None,
                )
            )
        return out

    async def commit_messages(self, repo: RepoRef, pr_id: int, limit: int = 200) -> list[str]:
        """Messages of the pull request's commits, newest first."""
        out: list[str] = []
        async for raw in self._pages(f"{self._repo(repo)}/pullrequests/{pr_id}/commits"):
            out.append(str(raw.get("message") or ""))
            if len(out) >= limit:
                break
        return out

    async def file_at(self, repo: RepoRef, commit: str, path: str) -> bytes | None:
        """A file's bytes at ``commit``; ``None`` when it does not exist there."""
        try:
            response = await self.t.request(
                "GET", f"{self._repo(repo)}/src/{quote(commit)}/{quote(path)}"
            )
        except BitbucketNotFound:
            return None
        return response.content

    async def comments(self, repo: RepoRef, pr_id: int) -> list[PostedComment]:
        """Every comment of the pull request (deleted ones left out)."""
        path = f"{self._repo(repo)}/pullrequests/{pr_id}/comments"
        return [_comment(raw) async for raw in self._pages(path) if not raw.get("deleted")]

    async def comment(self, repo: RepoRef, pr_id: int, comment_id: int) -> PostedComment:
        """One comment."""
        path = f"{self._repo(repo)}/pullrequests/{pr_id}/comments/{comment_id}"
        return _comment(await self.t.json("GET", path))

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
        body: dict[str, Any] = {"content": {"raw": text}}
        if inline is not None:
            body["inline"] = {"path": inline.path, "to": inline.line}
        if parent_id is not None:
            body["parent"] = {"id": parent_id}
        path = f"{self._repo(repo)}/pullrequests/{pr_id}/comments"
        return _comment(await self.t.json("POST", path, json=body))

    async def edit_comment(
        self, repo: RepoRef, pr_id: int, comment_id: int, text: str
    ) -> PostedComment:
        """Replace a comment's text (the summary, edited in place)."""
        path = f"{self._repo(repo)}/pullrequests/{pr_id}/comments/{comment_id}"
        return _comment(await self.t.json("PUT", path, json={"content": {"raw": text}}))

    async def resolve_comment(
        self, repo: RepoRef, pr_id: int, comment_id: int, reply: str | None = None
    ) -> None:
        """Resolve the comment's thread (already resolved is fine); ``reply`` is not needed."""
        path = f"{self._repo(repo)}/pullrequests/{pr_id}/comments/{comment_id}/resolve"
        try:
            await self.t.request("POST", path, idempotent=True)
        except BitbucketConflict:
            return  # resolved already: what we wanted

    async def reopen_comment(
        self, repo: RepoRef, pr_id: int, comment_id: int, reply: str | None = None
    ) -> None:
        """Reopen a resolved thread (not resolved is fine)."""
        path = f"{self._repo(repo)}/pullrequests/{pr_id}/comments/{comment_id}/resolve"
        try:
            await self.t.request("DELETE", path)
        except BitbucketNotFound:
            return

    def _report(self, repo: RepoRef, commit: str, key: str) -> str:
        return f"{self._repo(repo)}/commit/{quote(commit)}/reports/{quote(key)}"

    async def put_report(self, repo: RepoRef, commit: str, report: InsightsReport) -> None:
        """Replace the commit's report and its annotations (delete, put, bulk posts of 100)."""
        path = self._report(repo, commit, report.key)
        try:
            await self.t.request("DELETE", path)
        except BitbucketNotFound:
            pass
        await self.t.request("PUT", path, json=report.report)
        for batch in report.batches():
            # upserts keyed by external_id: safe to repeat
            await self.t.request("POST", f"{path}/annotations", json=batch, idempotent=True)

    async def get_report(self, repo: RepoRef, commit: str, key: str) -> dict[str, object]:
        """The report as stored."""
        found: dict[str, object] = await self.t.json("GET", self._report(repo, commit, key))
        return found

    async def annotations(self, repo: RepoRef, commit: str, key: str) -> list[dict[str, object]]:
        """Every annotation of the report."""
        path = self._report(repo, commit, key) + "/annotations"
        return [raw async for raw in self._pages(path)]
