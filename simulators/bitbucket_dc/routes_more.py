"""More Bitbucket DC routes: server info, who am I, comment edits and resolution, raw files,
pull request commits and deleting an Insights report.

- ``GET /rest/api/1.0/application-properties``: version, build number, display name.
- ``GET /plugins/servlet/applinks/whoami``: the authenticated user's name (plain text).
- ``PUT …/pull-requests/{id}/comments/{cid}`` with ``version`` (a stale one gets 409), ``text``,
  ``state`` (OPEN / RESOLVED: resolving a thread, top-level comments only) and ``severity``
  (NORMAL / BLOCKER: a task).
- ``GET …/repos/{slug}/raw/{path}?at=<ref>``: a file's bytes at a branch or commit.
- ``GET …/pull-requests/{id}/commits``: the commits of the pull request, newest first.
- ``GET …/pull-requests/{id}/activities``: one COMMENTED activity per comment, newest first.
- ``DELETE /rest/insights/1.0/…/reports/{key}``: a report and its annotations.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse

from simulators.bitbucket_cloud.deps import JsonBody, Who, current_principal
from simulators.bitbucket_dc.model import DcComment, DcPullRequest, DcRepo, DcState, now_ms
from simulators.bitbucket_dc.routes import INSIGHTS, PR, REPO, DcError, paged

VERSION = "8.19.1"


def _repo(state: DcState, request: Request, key: str, slug: str) -> DcRepo:
    state.web = state.config.base_url.rstrip("/") + request.scope.get("root_path", "")
    repo = state.repos.get((key, slug))
    if repo is None:
        raise DcError(404, f"Repository {key}/{slug} does not exist.")
    return repo


def _pr(state: DcState, request: Request, key: str, slug: str, pr_id: int) -> DcPullRequest:
    repo = _repo(state, request, key, slug)
    if pr_id not in repo.prs:
        raise DcError(404, f"Pull request {pr_id} does not exist in {key}/{slug}.")
    return repo.prs[pr_id]


def _edit(comment: DcComment, body: dict[str, Any]) -> None:
    if body.get("version") != comment.version:
        raise DcError(
            409,
            "You are attempting to modify a comment based on out-of-date information "
            f"(current version {comment.version}).",
        )
    if body.get("state") not in (None, "OPEN", "RESOLVED"):
        raise DcError(400, "state must be OPEN or RESOLVED.")
    if body.get("state") == "RESOLVED" and comment.parent_id is not None:
        raise DcError(400, "Only top-level comments can be resolved.")
    if body.get("severity") not in (None, "NORMAL", "BLOCKER"):
        raise DcError(400, "severity must be NORMAL or BLOCKER.")
    comment.text = body.get("text") or comment.text
    comment.state = body.get("state") or comment.state
    comment.severity = body.get("severity") or comment.severity
    comment.version += 1
    comment.updated = now_ms()


def more_router(state: DcState) -> APIRouter:
    """The routes above; every one requires the demo credentials."""
    router = APIRouter(dependencies=[Depends(current_principal)])

    @router.get("/rest/api/1.0/application-properties")
    def properties() -> dict[str, Any]:
        return {
            "version": VERSION,
            "buildNumber": "8019001",
            "buildDate": "1730000000000",
            "displayName": "Bitbucket",
        }

    @router.get("/plugins/servlet/applinks/whoami")
    def whoami(who: Who) -> PlainTextResponse:
        return PlainTextResponse(str(state.user(who.email)["name"]))

    @router.put(PR + "/comments/{comment_id}")
    def edit_comment(
        key: str, slug: str, pr_id: int, comment_id: int, request: Request, body: JsonBody
    ) -> dict[str, Any]:
        pr = _pr(state, request, key, slug, pr_id)
        comment = next((c for c in pr.comments if c.id == comment_id), None)
        if comment is None:
            raise DcError(404, f"Comment {comment_id} does not exist.")
        _edit(comment, body)
        return state.comment(comment)

    @router.get(REPO + "/raw/{path:path}")
    async def raw(key: str, slug: str, path: str, request: Request) -> Response:
        repo = _repo(state, request, key, slug)
        at = request.query_params.get("at", "HEAD").removeprefix("refs/heads/")
        full = await asyncio.to_thread(repo.git.resolve, at)
        data = None if full is None else await asyncio.to_thread(repo.git.blob, full, path)
        if data is None:
            raise DcError(404, f'The path "{path}" does not exist at revision "{at}"')
        return Response(data, media_type="text/plain")

    @router.get(PR + "/commits")
    async def commits(key: str, slug: str, pr_id: int, request: Request) -> dict[str, Any]:
        repo = _repo(state, request, key, slug)
        pr = _pr(state, request, key, slug, pr_id)
        found = await asyncio.to_thread(repo.git.log, pr.from_hash, pr.to_hash)
        return paged([_commit(c) for c in found])

    @router.get(PR + "/activities")
    def activities(key: str, slug: str, pr_id: int, request: Request) -> dict[str, Any]:
        pr = _pr(state, request, key, slug, pr_id)
        values = [
            {
                "id": 10_000 + c.id,
                "createdDate": state.date(c.created),
                "user": state.user(c.author_email),
                "action": "COMMENTED",
                "commentAction": "ADDED",
                "comment": state.comment(c),
            }
            for c in reversed(pr.comments)
        ]
        return paged(values)

    @router.delete(INSIGHTS, status_code=204)
    def delete_report(key: str, slug: str, commit: str, report: str, request: Request) -> Response:
        repo = _repo(state, request, key, slug)
        found = (key, slug, repo.git.resolve(commit) or commit, report)
        if found not in state.reports:
            raise DcError(404, f"Report {report} does not exist for commit {commit}.")
        del state.reports[found]
        state.annotations.pop(found, None)
        return Response(status_code=204)

    return router


def _commit(info: Any) -> dict[str, Any]:
    person = {"name": info.author_name, "emailAddress": info.author_email}
    return {
        "id": info.hash,
        "displayId": info.hash[:11],
        "author": person,
        "committer": person,
        "message": info.message,
        "parents": [{"id": p, "displayId": p[:11]} for p in info.parents],
    }
