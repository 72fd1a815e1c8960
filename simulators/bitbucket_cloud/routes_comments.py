"""Pull request comments, general and inline (``inline: {path, from, to}``), with replies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from simulators.bitbucket_cloud import serialize as s
from simulators.bitbucket_cloud.deps import (
    BitbucketError,
    JsonBody,
    Who,
    current_principal,
    emit_pr_event,
    get_pr,
    get_repo,
)
from simulators.bitbucket_cloud.state import CloudState, Comment, PullRequest, now_iso

COMMENTS = "/2.0/repositories/{workspace}/{slug}/pullrequests/{pr_id}/comments"
INLINE_KEYS = {"path", "from", "to", "start_from", "start_to"}


def _inline(body: dict[str, Any]) -> dict[str, Any] | None:
    inline = body.get("inline")
    if inline is None:
        return None
    if not isinstance(inline, dict) or not inline.get("path"):
        raise BitbucketError(400, "inline.path: This field is required.")
    unknown = set(inline) - INLINE_KEYS
    if unknown:
        raise BitbucketError(400, f"inline: unknown fields {sorted(unknown)}")
    for key in INLINE_KEYS - {"path"}:
        if inline.get(key) is not None and (not isinstance(inline[key], int) or inline[key] < 1):
            raise BitbucketError(400, f"inline.{key}: must be a positive line number")
    return {"path": inline["path"], "from": inline.get("from"), "to": inline.get("to")} | {
        k: inline[k] for k in ("start_from", "start_to") if k in inline
    }


def add_comment(state: CloudState, pr: PullRequest, body: dict[str, Any], author: str) -> Comment:
    """Validate and store a comment (shared by the API and the seeding helper)."""
    raw = (body.get("content") or {}).get("raw")
    if not raw:
        raise BitbucketError(400, "content.raw: This field is required.")
    parent = (body.get("parent") or {}).get("id")
    if parent is not None and parent not in pr.comment_ids:
        raise BitbucketError(400, f"parent comment {parent} is not on this pull request")
    comment = Comment(state.next_comment_id(), pr.id, raw, author, _inline(body), parent)
    state.comments[comment.id] = comment
    pr.comment_ids.append(comment.id)
    return comment


def comments_router(state: CloudState) -> APIRouter:
    """Routes under ``.../pullrequests/{id}/comments``."""
    router = APIRouter(dependencies=[Depends(current_principal)])

    def _find(workspace: str, slug: str, pr_id: int, comment_id: int) -> Comment:
        pr = get_pr(state, get_repo(state, workspace, slug), pr_id)
        if comment_id not in pr.comment_ids:
            raise BitbucketError(404, f"Comment {comment_id} not found")
        return state.comments[comment_id]

    @router.get(COMMENTS)
    def list_comments(workspace: str, slug: str, pr_id: int, request: Request) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr = get_pr(state, repo, pr_id)
        found = [state.comments[c] for c in pr.comment_ids]
        return s.page([s.comment(urls, repo, pr, c, state) for c in found], request)

    @router.post(COMMENTS, status_code=201)
    def create(
        workspace: str,
        slug: str,
        pr_id: int,
        request: Request,
        body: JsonBody,
        who: Who,
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr = get_pr(state, repo, pr_id)
        comment = add_comment(state, pr, body, who.account_id)
        shown = s.comment(urls, repo, pr, comment, state)
        pr.activity.append(
            {
                "comment": shown,
                "pull_request": {"type": "pullrequest", "id": pr.id, "title": pr.title},
            }
        )
        emit_pr_event(
            state, urls, repo, pr, "pullrequest:comment_created", who.account_id, {"comment": shown}
        )
        return shown

    @router.get(COMMENTS + "/{comment_id}")
    def get(
        workspace: str, slug: str, pr_id: int, comment_id: int, request: Request
    ) -> dict[str, Any]:
        repo = get_repo(state, workspace, slug)
        pr, comment = get_pr(state, repo, pr_id), _find(workspace, slug, pr_id, comment_id)
        return s.comment(s.Urls.of(request, state), repo, pr, comment, state)

    @router.put(COMMENTS + "/{comment_id}")
    def update(
        workspace: str,
        slug: str,
        pr_id: int,
        comment_id: int,
        request: Request,
        body: JsonBody,
        who: Who,
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr, comment = get_pr(state, repo, pr_id), _find(workspace, slug, pr_id, comment_id)
        comment.raw = (body.get("content") or {}).get("raw") or comment.raw
        comment.updated_on = now_iso()
        shown = s.comment(urls, repo, pr, comment, state)
        emit_pr_event(
            state, urls, repo, pr, "pullrequest:comment_updated", who.account_id, {"comment": shown}
        )
        return shown

    @router.post(COMMENTS + "/{comment_id}/resolve")
    def resolve(
        workspace: str, slug: str, pr_id: int, comment_id: int, request: Request, who: Who
    ) -> dict[str, Any]:
        comment = _find(workspace, slug, pr_id, comment_id)
        if comment.parent_id is not None or comment.inline is None:
            raise BitbucketError(403, "Only top-level comments on the diff can be resolved")
        if comment.resolution is not None:
            raise BitbucketError(409, "Comment is already resolved")
        comment.resolution = {"user": who.account_id, "created_on": now_iso()}
        repo = get_repo(state, workspace, slug)
        shown = s.comment(
            s.Urls.of(request, state), repo, get_pr(state, repo, pr_id), comment, state
        )
        return dict(shown["resolution"])

    @router.delete(COMMENTS + "/{comment_id}/resolve", status_code=204)
    def reopen(workspace: str, slug: str, pr_id: int, comment_id: int, _: Who) -> Response:
        comment = _find(workspace, slug, pr_id, comment_id)
        if comment.parent_id is not None:
            raise BitbucketError(403, "Only top-level comments can be reopened")
        if comment.resolution is None:
            raise BitbucketError(404, "Comment is not resolved")
        comment.resolution = None
        return Response(status_code=204)

    @router.delete(COMMENTS + "/{comment_id}", status_code=204)
    def delete(workspace: str, slug: str, pr_id: int, comment_id: int) -> Response:
        _find(workspace, slug, pr_id, comment_id).deleted = True
        return Response(status_code=204)

    return router
