"""Lookups, errors and webhook emission shared by the Cloud routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Request
from fastapi.responses import JSONResponse

from simulators.auth import Principal, require_auth
from simulators.bitbucket_cloud import serialize as s
from simulators.bitbucket_cloud.state import CloudState, PullRequest, Repo


def current_principal(request: Request) -> Principal:
    """The authenticated caller (the app keeps its ``SimulatorConfig`` in ``app.state``)."""
    return require_auth(request.app.state.sim_config)(request)


Who = Annotated[Principal, Depends(current_principal)]
JsonBody = Annotated[dict[str, Any], Body()]
OptionalBody = Annotated[dict[str, Any] | None, Body()]
JsonList = Annotated[list[dict[str, Any]], Body()]


class BitbucketError(Exception):
    """Answered as ``{"type": "error", "error": {...}}`` with ``status``."""

    def __init__(self, status: int, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


async def error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Render a ``BitbucketError`` the way Bitbucket Cloud does."""
    assert isinstance(exc, BitbucketError)
    return JSONResponse(s.error(exc.message, exc.detail), status_code=exc.status)


def get_repo(state: CloudState, workspace: str, slug: str) -> Repo:
    """The repository or a 404."""
    repo = state.repos.get(f"{workspace}/{slug}")
    if repo is None:
        raise BitbucketError(404, "Repository not found", f"{workspace}/{slug}")
    return repo


def get_pr(state: CloudState, repo: Repo, pr_id: int) -> PullRequest:
    """The pull request or a 404."""
    pr = state.pullrequests[repo.full_name].get(pr_id)
    if pr is None:
        raise BitbucketError(404, f"Pull request {pr_id} not found")
    return pr


def resolve_commit(repo: Repo, rev: str) -> str:
    """Full hash of a commit (abbreviated hashes accepted) or a 404."""
    full = repo.git.resolve(rev)
    if full is None:
        raise BitbucketError(404, f"Commit not found: {rev}")
    return full


def webhook_repository(urls: s.Urls, repo: Repo) -> dict[str, Any]:
    """The repository object of webhook payloads."""
    body = s.repo_ref(urls, repo)
    body |= {
        "is_private": repo.is_private,
        "scm": "git",
        "website": None,
        "owner": {"type": "team", "username": repo.workspace, "display_name": repo.workspace},
        "workspace": {"type": "workspace", "slug": repo.workspace, "name": repo.workspace},
        "project": {"type": "project", "key": "PROJ", "name": "Project"},
    }
    return body


def emit_pr_event(
    state: CloudState,
    urls: s.Urls,
    repo: Repo,
    pr: PullRequest,
    event: str,
    actor: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Send ``pullrequest:<event>`` to the repository's hooks (actor, pullrequest, repository)."""
    payload = {
        "actor": s.user(urls, actor, state),
        "pullrequest": s.pullrequest(urls, repo, pr, state),
        "repository": webhook_repository(urls, repo),
    } | (extra or {})
    state.sender.emit("bitbucket-cloud", event, payload, scope=repo.full_name)
