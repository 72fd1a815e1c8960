"""REST 1.0, Code Insights, webhooks and git routes of the Bitbucket DC simulator."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from simulators.bitbucket_cloud.deps import JsonBody, Who, current_principal
from simulators.bitbucket_cloud.git_repo import GitError
from simulators.bitbucket_dc.diffjson import parse_unified
from simulators.bitbucket_dc.model import DcComment, DcPullRequest, DcRepo, DcState, now_ms
from simulators.git_http import is_push, serve_git

REPO = "/rest/api/1.0/projects/{key}/repos/{slug}"
PR = REPO + "/pull-requests/{pr_id}"
INSIGHTS = "/rest/insights/1.0/projects/{key}/repos/{slug}/commits/{commit}/reports/{report}"
_CHANGE = {"added": "ADD", "removed": "DELETE", "modified": "MODIFY", "renamed": "MOVE"}


class DcError(Exception):
    """Answered as ``{"errors": [{"message": ...}]}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


async def dc_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Render a ``DcError`` the way Bitbucket DC does."""
    assert isinstance(exc, DcError)
    body = {"errors": [{"context": None, "message": exc.message, "exceptionName": None}]}
    return JSONResponse(body, status_code=exc.status)


def paged(values: list[Any]) -> dict[str, Any]:
    """DC's page envelope (everything on one page)."""
    return {
        "size": len(values),
        "limit": max(len(values), 25),
        "isLastPage": True,
        "values": values,
        "start": 0,
        "nextPageStart": None,
    }


def dc_router(state: DcState) -> APIRouter:
    """All DC routes; every one requires the demo credentials."""
    router = APIRouter(dependencies=[Depends(current_principal)])

    def repo_of(request: Request, key: str, slug: str) -> DcRepo:
        state.web = state.config.base_url.rstrip("/") + request.scope.get("root_path", "")
        repo = state.repos.get((key, slug))
        if repo is None:
            raise DcError(404, f"Repository {key}/{slug} does not exist.")
        return repo

    def pr_of(request: Request, key: str, slug: str, pr_id: int) -> tuple[DcRepo, DcPullRequest]:
        repo = repo_of(request, key, slug)
        if pr_id not in repo.prs:
            raise DcError(404, f"Pull request {pr_id} does not exist in {key}/{slug}.")
        return repo, repo.prs[pr_id]

    @router.post("/rest/api/1.0/projects/{key}/repos", status_code=201)
    def create_repo(key: str, request: Request, body: JsonBody) -> dict[str, Any]:
        slug = str(body.get("name", "")).lower().replace(" ", "-")
        if not slug or (key, slug) in state.repos:
            raise DcError(409, f"Repository name {slug!r} is missing or already taken.")
        state.create_repo(key, slug)
        return state.repository(repo_of(request, key, slug))

    @router.get(REPO)
    def get_repo(key: str, slug: str, request: Request) -> dict[str, Any]:
        return state.repository(repo_of(request, key, slug))

    @router.post(REPO + "/webhooks", status_code=201)
    def create_webhook(key: str, slug: str, request: Request, body: JsonBody) -> dict[str, Any]:
        repo_of(request, key, slug)
        secret = (body.get("configuration") or {}).get("secret")
        hook = state.sender.register(
            "bitbucket-dc",
            body["url"],
            secret=secret,
            events=body.get("events", []),
            scope=f"{key}/{slug}",
        )
        return {
            "id": hook.uuid,
            "name": body.get("name", ""),
            "url": hook.url,
            "events": sorted(hook.events),
            "active": True,
            "configuration": {},
        }

    @router.post(REPO + "/pull-requests", status_code=201)
    async def create_pr(
        key: str, slug: str, request: Request, body: JsonBody, who: Who
    ) -> dict[str, Any]:
        repo = repo_of(request, key, slug)
        from_branch = str((body.get("fromRef") or {}).get("id", "")).removeprefix("refs/heads/")
        to_branch = str((body.get("toRef") or {}).get("id", "")).removeprefix("refs/heads/")
        from_hash = await asyncio.to_thread(repo.git.resolve, from_branch)
        to_hash = await asyncio.to_thread(repo.git.resolve, to_branch)
        if not body.get("title") or from_hash is None or to_hash is None:
            raise DcError(400, "title, fromRef and toRef must name existing branches.")
        pr = DcPullRequest(
            max(repo.prs, default=0) + 1,
            body["title"],
            body.get("description", ""),
            from_branch,
            to_branch,
            from_hash,
            to_hash,
            author_email=who.email,
        )
        repo.prs[pr.id] = pr
        state.emit(repo, pr, "pr:opened", who.email)
        return state.pull_request(repo, pr)

    @router.get(REPO + "/pull-requests")
    def list_prs(key: str, slug: str, request: Request) -> dict[str, Any]:
        repo = repo_of(request, key, slug)
        wanted = request.query_params.get("state", "OPEN").upper()
        prs = [p for p in repo.prs.values() if wanted == "ALL" or p.state == wanted]
        return paged([state.pull_request(repo, p) for p in prs])

    @router.get(REPO + "/pull-requests/{pr_id}.diff")
    async def diff_text(key: str, slug: str, pr_id: int, request: Request) -> PlainTextResponse:
        repo, pr = pr_of(request, key, slug, pr_id)
        base = await asyncio.to_thread(repo.git.merge_base, pr.from_hash, pr.to_hash)
        return PlainTextResponse(await asyncio.to_thread(repo.git.diff, base, pr.from_hash))

    @router.get(PR)
    def get_pr(key: str, slug: str, pr_id: int, request: Request) -> dict[str, Any]:
        return state.pull_request(*pr_of(request, key, slug, pr_id))

    @router.get(PR + "/diff")
    async def diff_json(key: str, slug: str, pr_id: int, request: Request) -> dict[str, Any]:
        repo, pr = pr_of(request, key, slug, pr_id)
        base = await asyncio.to_thread(repo.git.merge_base, pr.from_hash, pr.to_hash)
        text = await asyncio.to_thread(repo.git.diff, base, pr.from_hash)
        return {
            "fromHash": base,
            "toHash": pr.from_hash,
            "contextLines": 3,
            "whitespace": "SHOW",
            "diffs": parse_unified(text),
        }

    @router.get(PR + "/changes")
    async def changes(key: str, slug: str, pr_id: int, request: Request) -> dict[str, Any]:
        repo, pr = pr_of(request, key, slug, pr_id)
        base = await asyncio.to_thread(repo.git.merge_base, pr.from_hash, pr.to_hash)
        found = await asyncio.to_thread(repo.git.changes, base, pr.from_hash)
        values = []
        for c in found:
            path = c.new_path or c.old_path or ""
            entry: dict[str, Any] = {
                "type": _CHANGE[c.status],
                "nodeType": "FILE",
                "executable": False,
                "path": {
                    "components": path.split("/"),
                    "name": path.rsplit("/", 1)[-1],
                    "toString": path,
                },
                "properties": {"gitChangeType": _CHANGE[c.status]},
                "percentUnchanged": -1,
            }
            if c.status == "renamed":
                entry["srcPath"] = {
                    "components": (c.old_path or "").split("/"),
                    "toString": c.old_path,
                }
            values.append(entry)
        return paged(values) | {"fromHash": pr.from_hash, "toHash": base}

    @router.post(PR + "/comments", status_code=201)
    def add_comment(
        key: str, slug: str, pr_id: int, request: Request, body: JsonBody, who: Who
    ) -> dict[str, Any]:
        repo, pr = pr_of(request, key, slug, pr_id)
        anchor, parent = body.get("anchor"), (body.get("parent") or {}).get("id")
        if not body.get("text"):
            raise DcError(400, "text: a comment needs text.")
        if anchor is not None and not anchor.get("path"):
            raise DcError(400, "anchor.path is required for inline comments.")
        comment = DcComment(
            1 + sum(len(r.prs[p].comments) for r in state.repos.values() for p in r.prs),
            body["text"],
            anchor,
            parent,
            author_email=who.email,
            severity="BLOCKER" if body.get("severity") == "BLOCKER" else "NORMAL",
        )
        pr.comments.append(comment)
        extra = {"commentParentId": parent} if parent is not None else {}
        shown = state.comment(comment)
        state.emit(repo, pr, "pr:comment:added", who.email, comment=shown, **extra)
        return state.comment(comment)

    @router.get(PR + "/comments/{comment_id}")
    def get_comment(
        key: str, slug: str, pr_id: int, comment_id: int, request: Request
    ) -> dict[str, Any]:
        _, pr = pr_of(request, key, slug, pr_id)
        for c in pr.comments:
            if c.id == comment_id:
                return state.comment(c)
        raise DcError(404, f"Comment {comment_id} does not exist.")

    @router.post(PR + "/merge")
    async def merge(key: str, slug: str, pr_id: int, request: Request, who: Who) -> dict[str, Any]:
        repo, pr = pr_of(request, key, slug, pr_id)
        version = request.query_params.get("version")
        if version is not None and int(version) != pr.version:
            raise DcError(
                409,
                f"Pull request is out of date (current version {pr.version})",
            )
        message = (
            f"Merge pull request #{pr.id} in {key}/{slug} from {pr.from_branch} to {pr.to_branch}"
        )
        try:
            pr.merge_commit = await asyncio.to_thread(
                repo.git.merge,
                pr.from_hash,
                pr.to_branch,
                "merge_commit",
                message,
                ("Demo User", who.email),
            )
        except GitError as err:
            raise DcError(409, str(err)) from err
        pr.state, pr.version, pr.updated = "MERGED", pr.version + 1, now_ms()
        state.emit(repo, pr, "pr:merged")
        return state.pull_request(repo, pr)

    @router.put(INSIGHTS)
    def put_report(
        key: str, slug: str, commit: str, report: str, request: Request, body: JsonBody
    ) -> dict[str, Any]:
        repo = repo_of(request, key, slug)
        full = repo.git.resolve(commit)
        if full is None:
            raise DcError(404, f"Commit {commit} does not exist.")
        if not body.get("title"):
            raise DcError(400, "title: a report needs a title.")
        stored = body | {"key": report, "createdDate": now_ms(), "updatedDate": now_ms()}
        state.reports[(key, slug, full, report)] = stored
        state.annotations[(key, slug, full, report)] = []
        return stored

    @router.get(INSIGHTS)
    def get_report(
        key: str, slug: str, commit: str, report: str, request: Request
    ) -> dict[str, Any]:
        return state.reports[_report_key(state, repo_of(request, key, slug), commit, report)]

    @router.post(INSIGHTS + "/annotations", status_code=204)
    def add_annotations(
        key: str, slug: str, commit: str, report: str, request: Request, body: JsonBody
    ) -> Response:
        found = _report_key(state, repo_of(request, key, slug), commit, report)
        items = body.get("annotations") or []
        for item in items:
            if not item.get("message") or item.get("severity") not in {"LOW", "MEDIUM", "HIGH"}:
                raise DcError(400, "each annotation needs a message and severity LOW|MEDIUM|HIGH.")
        state.annotations[found].extend(items)
        return Response(status_code=204)

    @router.get(INSIGHTS + "/annotations")
    def get_annotations(
        key: str, slug: str, commit: str, report: str, request: Request
    ) -> dict[str, Any]:
        found = _report_key(state, repo_of(request, key, slug), commit, report)
        items = [a | {"reportKey": report} for a in state.annotations[found]]
        return {"annotations": items, "totalCount": len(items)}

    @router.api_route("/scm/{key}/{slug}.git/{rest:path}", methods=["GET", "POST"])
    async def git(key: str, slug: str, rest: str, request: Request, who: Who) -> Response:
        repo = repo_of(request, key, slug)
        path_info = f"/{key}/{slug}.git/{rest}"
        response = await serve_git(request, state.git_root, path_info, who.email)
        if is_push(path_info) and response.status_code == 200:
            await _after_push(state, repo)
        return response

    return router


def _report_key(
    state: DcState, repo: DcRepo, commit: str, report: str
) -> tuple[str, str, str, str]:
    full = repo.git.resolve(commit) or commit
    found = (repo.project, repo.slug, full, report)
    if found not in state.reports:
        raise DcError(404, f"Report {report} does not exist for commit {commit}.")
    return found


async def _after_push(state: DcState, repo: DcRepo) -> None:
    heads = await asyncio.to_thread(repo.git.branches)
    for pr in repo.prs.values():
        new = heads.get(pr.from_branch)
        if pr.state != "OPEN" or new is None or new == pr.from_hash:
            continue
        previous, pr.from_hash = pr.from_hash, new
        pr.to_hash = heads.get(pr.to_branch, pr.to_hash)
        pr.version, pr.updated = pr.version + 1, now_ms()
        state.emit(repo, pr, "pr:from_ref_updated", previousFromHash=previous)
