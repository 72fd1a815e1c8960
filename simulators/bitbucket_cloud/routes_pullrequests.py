"""Pull requests: create, read, list, update, approve, request changes, merge, decline, diffs."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from simulators.auth import Principal
from simulators.bitbucket_cloud import serialize as s
from simulators.bitbucket_cloud.deps import (
    BitbucketError,
    JsonBody,
    OptionalBody,
    Who,
    current_principal,
    emit_pr_event,
    get_pr,
    get_repo,
)
from simulators.bitbucket_cloud.git_repo import GitError, MergeStrategy
from simulators.bitbucket_cloud.pr_sync import update_activity
from simulators.bitbucket_cloud.state import CloudState, PullRequest, Repo, now_iso

PRS = "/2.0/repositories/{workspace}/{slug}/pullrequests"
PR = PRS + "/{pr_id}"


def create_pullrequest(
    state: CloudState, repo: Repo, body: dict[str, Any], author: str
) -> PullRequest:
    """Validate and store a new PR (shared by the API and the seeding helper)."""
    source = ((body.get("source") or {}).get("branch") or {}).get("name")
    dest = ((body.get("destination") or {}).get("branch") or {}).get("name") or repo.mainbranch
    if not body.get("title") or not source:
        raise BitbucketError(400, "title and source.branch.name are required")
    source_hash, dest_hash = repo.git.resolve(source), repo.git.resolve(dest)
    if source_hash is None or dest_hash is None:
        raise BitbucketError(400, f"branch not found: {source if source_hash is None else dest}")
    prs = state.pullrequests[repo.full_name]
    pr = PullRequest(
        id=max(prs, default=0) + 1,
        title=body["title"],
        description=body.get("description") or "",
        source_branch=source,
        dest_branch=dest,
        author=author,
        source_hash=source_hash,
        dest_hash=dest_hash,
        close_source_branch=bool(body.get("close_source_branch")),
        draft=bool(body.get("draft")),
        reviewers=[r["uuid"] for r in body.get("reviewers") or []],
    )
    prs[pr.id] = pr
    return pr


def _participant(pr: PullRequest, account: str) -> dict[str, Any]:
    role = "REVIEWER" if account in pr.reviewers else "PARTICIPANT"
    return pr.participants.setdefault(
        account, {"role": role, "approved": False, "state": None, "on": now_iso()}
    )


def pullrequests_router(state: CloudState) -> APIRouter:
    """Routes under ``/2.0/repositories/{ws}/{slug}/pullrequests``."""
    router = APIRouter(dependencies=[Depends(current_principal)])

    @router.get(PRS)
    @router.get(PRS + "/", include_in_schema=False)
    def list_prs(workspace: str, slug: str, request: Request) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        wanted = set(request.query_params.getlist("state")) or {"OPEN"}
        prs = [p for p in state.pullrequests[repo.full_name].values() if p.state in wanted]
        return s.page([s.pullrequest(urls, repo, p, state) for p in prs], request)

    @router.post(PRS, status_code=201)
    @router.post(PRS + "/", status_code=201, include_in_schema=False)
    async def create(
        workspace: str,
        slug: str,
        request: Request,
        body: JsonBody,
        who: Who,
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr = await asyncio.to_thread(create_pullrequest, state, repo, body, who.account_id)
        emit_pr_event(state, urls, repo, pr, "pullrequest:created", who.account_id)
        return s.pullrequest(urls, repo, pr, state)

    @router.get(PR)
    def get(workspace: str, slug: str, pr_id: int, request: Request, _: Who) -> dict[str, Any]:
        repo = get_repo(state, workspace, slug)
        return s.pullrequest(s.Urls.of(request, state), repo, get_pr(state, repo, pr_id), state)

    @router.put(PR)
    def update(
        workspace: str,
        slug: str,
        pr_id: int,
        request: Request,
        body: JsonBody,
        who: Who,
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr = get_pr(state, repo, pr_id)
        pr.title = body.get("title", pr.title)
        pr.description = body.get("description", pr.description)
        pr.updated_on = now_iso()
        pr.activity.append(update_activity(urls, repo, pr, who.account_id, state))
        emit_pr_event(state, urls, repo, pr, "pullrequest:updated", who.account_id)
        return s.pullrequest(urls, repo, pr, state)

    def _vote(
        workspace: str, slug: str, pr_id: int, request: Request, who: Principal, vote: str | None
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr = get_pr(state, repo, pr_id)
        if pr.state != "OPEN":
            raise BitbucketError(
                400, "You can't approve or request changes on a closed pull request."
            )
        part = _participant(pr, who.account_id)
        part["state"], part["approved"] = vote, vote == "approved"
        key = {"approved": "approval", "changes_requested": "changes_requested"}.get(vote or "")
        if key:
            pr.activity.append(
                {
                    key: {"date": now_iso(), "user": s.user(urls, who.account_id, state)},
                    "pull_request": {"type": "pullrequest", "id": pr.id, "title": pr.title},
                }
            )
            event = (
                "pullrequest:approved"
                if vote == "approved"
                else "pullrequest:changes_request_created"
            )
            emit_pr_event(state, urls, repo, pr, event, who.account_id, {key: pr.activity[-1][key]})
        return {
            "type": "participant",
            "user": s.user(urls, who.account_id, state),
            "role": part["role"],
            "approved": part["approved"],
            "state": vote,
            "participated_on": part["on"],
        }

    @router.post(PR + "/approve")
    def approve(
        workspace: str, slug: str, pr_id: int, request: Request, who: Who
    ) -> dict[str, Any]:
        return _vote(workspace, slug, pr_id, request, who, "approved")

    @router.post(PR + "/request-changes")
    def request_changes(
        workspace: str, slug: str, pr_id: int, request: Request, who: Who
    ) -> dict[str, Any]:
        return _vote(workspace, slug, pr_id, request, who, "changes_requested")

    @router.delete(PR + "/approve", status_code=204)
    @router.delete(PR + "/request-changes", status_code=204)
    def withdraw(workspace: str, slug: str, pr_id: int, request: Request, who: Who) -> None:
        _vote(workspace, slug, pr_id, request, who, None)

    @router.post(PR + "/merge")
    async def merge(
        workspace: str,
        slug: str,
        pr_id: int,
        request: Request,
        who: Who,
        body: OptionalBody = None,
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr, body = get_pr(state, repo, pr_id), body or {}
        if pr.state != "OPEN":
            raise BitbucketError(400, "Pull request is not open")
        strategy: MergeStrategy = body.get("merge_strategy") or "merge_commit"
        if strategy not in ("merge_commit", "squash", "fast_forward"):
            raise BitbucketError(400, f"merge_strategy: unknown strategy {strategy!r}")
        message = body.get("message") or f"Merged in {pr.source_branch} (pull request #{pr.id})"
        try:
            pr.merge_commit = await asyncio.to_thread(
                repo.git.merge,
                pr.source_hash,
                pr.dest_branch,
                strategy,
                message,
                ("Demo User", state.config.user_email),
            )
        except GitError as err:
            raise BitbucketError(409, "Merge failed", str(err)) from err
        pr.state, pr.updated_on = "MERGED", now_iso()
        if body.get("close_source_branch", pr.close_source_branch):
            await asyncio.to_thread(repo.git.delete_branch, pr.source_branch)
        pr.activity.append(update_activity(urls, repo, pr, who.account_id, state))
        emit_pr_event(state, urls, repo, pr, "pullrequest:fulfilled", who.account_id)
        return s.pullrequest(urls, repo, pr, state)

    @router.post(PR + "/decline")
    def decline(
        workspace: str, slug: str, pr_id: int, request: Request, who: Who
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr = get_pr(state, repo, pr_id)
        pr.state, pr.updated_on = "DECLINED", now_iso()
        pr.activity.append(update_activity(urls, repo, pr, who.account_id, state))
        emit_pr_event(state, urls, repo, pr, "pullrequest:rejected", who.account_id)
        return s.pullrequest(urls, repo, pr, state)

    @router.get(PR + "/diff")
    @router.get(PR + "/diffstat")
    @router.get(PR + "/patch")
    def redirect(
        workspace: str, slug: str, pr_id: int, request: Request, _: Who
    ) -> RedirectResponse:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr = get_pr(state, repo, pr_id)
        kind = request.url.path.rsplit("/", 1)[1].replace("patch", "diff")
        spec = f"{pr.source_hash}..{pr.dest_hash}"
        target = f"{urls.repo(repo)}/{kind}/{spec}?from_pullrequest_id={pr.id}&topic=true"
        return RedirectResponse(target, status_code=302)

    @router.get(PR + "/commits")
    async def commits(
        workspace: str, slug: str, pr_id: int, request: Request, _: Who
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        pr = get_pr(state, repo, pr_id)
        infos = await asyncio.to_thread(repo.git.log, pr.source_hash, pr.dest_hash)
        values = [
            s.commit_ref(urls, repo, c.hash)
            | {
                "message": c.message,
                "date": c.date,
                "author": {"type": "author", "raw": f"{c.author_name} <{c.author_email}>"},
            }
            for c in infos
        ]
        return s.page(values, request)

    @router.get(PR + "/activity")
    def activity(workspace: str, slug: str, pr_id: int, request: Request, _: Who) -> dict[str, Any]:
        repo = get_repo(state, workspace, slug)
        pr = get_pr(state, repo, pr_id)
        return s.page(list(reversed(pr.activity)), request)

    @router.get(PR + "/statuses")
    def statuses(workspace: str, slug: str, pr_id: int, request: Request, _: Who) -> dict[str, Any]:
        repo = get_repo(state, workspace, slug)
        pr = get_pr(state, repo, pr_id)
        return s.page(
            list(state.statuses.get((repo.full_name, pr.source_hash), {}).values()), request
        )

    return router
