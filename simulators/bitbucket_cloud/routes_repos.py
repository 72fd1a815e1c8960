"""Repositories, commits, diffs, commit statuses, webhook subscriptions and git over HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse

from simulators.bitbucket_cloud import serialize as s
from simulators.bitbucket_cloud.deps import (
    BitbucketError,
    JsonBody,
    OptionalBody,
    Who,
    current_principal,
    get_repo,
    resolve_commit,
)
from simulators.bitbucket_cloud.pr_sync import sync_after_push
from simulators.bitbucket_cloud.state import CloudState, Repo, now_iso
from simulators.git_http import is_push, serve_git

REPO = "/2.0/repositories/{workspace}/{slug}"


def _spec(repo: Repo, spec: str, topic: bool) -> tuple[str, str]:
    """``A..B`` (A's changes since its merge base with B) or ``A`` (against its first parent)."""
    head_rev, _, base_rev = spec.partition("..")
    head = resolve_commit(repo, head_rev)
    if base_rev:
        base = resolve_commit(repo, base_rev)
        return (repo.git.merge_base(head, base) if topic else base), head
    parents = repo.git.commit_info(head).parents
    return (parents[0] if parents else "4b825dc642cb6eb9a060e54bf8d69288fbee4904"), head


def _hook_json(urls: s.Urls, repo: Repo, hook: Any) -> dict[str, Any]:
    return {
        "type": "webhook_subscription",
        "uuid": hook.uuid,
        "url": hook.url,
        "description": hook.description,
        "subject_type": "repository",
        "subject": s.repo_ref(urls, repo),
        "active": hook.active,
        "events": sorted(hook.events),
        "secret_set": bool(hook.secret),
        "created_at": now_iso(),
        "links": {"self": s.link(f"{urls.repo(repo)}/hooks/{hook.uuid}")},
    }


def repos_router(state: CloudState) -> APIRouter:
    """Routes under ``/2.0/repositories`` that are not about pull requests."""
    router = APIRouter(dependencies=[Depends(current_principal)])

    @router.get("/2.0/repositories/{workspace}")
    def list_repos(workspace: str, request: Request) -> dict[str, Any]:
        urls = s.Urls.of(request, state)
        found = [r for r in state.repos.values() if r.workspace == workspace]
        return s.page([s.repository(urls, r, state) for r in found], request)

    @router.post(REPO, status_code=200)
    def create_repo(
        workspace: str, slug: str, request: Request, body: OptionalBody = None
    ) -> dict[str, Any]:
        body = body or {}
        if f"{workspace}/{slug}" in state.repos:
            raise BitbucketError(400, "Repository with this Slug and Owner already exists.")
        mainbranch = (body.get("mainbranch") or {}).get("name", "main")
        repo = state.create_repo(
            workspace,
            slug,
            name=body.get("name"),
            description=body.get("description", ""),
            is_private=body.get("is_private", True),
            mainbranch=mainbranch,
        )
        return s.repository(s.Urls.of(request, state), repo, state)

    @router.get(REPO)
    def get_repository(workspace: str, slug: str, request: Request) -> dict[str, Any]:
        return s.repository(s.Urls.of(request, state), get_repo(state, workspace, slug), state)

    @router.get(REPO + "/refs/branches")
    async def branches(workspace: str, slug: str, request: Request) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        heads = await asyncio.to_thread(repo.git.branches)
        values = [
            {
                "type": "branch",
                "name": name,
                "target": s.commit_ref(urls, repo, hash_),
                "links": {"self": s.link(f"{urls.repo(repo)}/refs/branches/{name}")},
            }
            for name, hash_ in sorted(heads.items())
        ]
        return s.page(values, request)

    @router.get(REPO + "/commit/{commit}")
    async def get_commit(
        workspace: str, slug: str, commit: str, request: Request
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        info = await asyncio.to_thread(repo.git.commit_info, resolve_commit(repo, commit))
        return s.commit_ref(urls, repo, info.hash) | {
            "date": info.date,
            "message": info.message,
            "author": {"type": "author", "raw": f"{info.author_name} <{info.author_email}>"},
            "parents": [s.commit_ref(urls, repo, p) for p in info.parents],
            "repository": s.repo_ref(urls, repo),
        }

    @router.get(REPO + "/diff/{spec}")
    async def diff(workspace: str, slug: str, spec: str, topic: bool = True) -> PlainTextResponse:
        repo = get_repo(state, workspace, slug)
        base, head = _spec(repo, spec, topic)
        return PlainTextResponse(await asyncio.to_thread(repo.git.diff, base, head))

    @router.get(REPO + "/diffstat/{spec}")
    async def diffstat(
        workspace: str, slug: str, spec: str, request: Request, topic: bool = True
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        base, head = _spec(repo, spec, topic)
        changes = await asyncio.to_thread(repo.git.changes, base, head)
        return s.page([s.diffstat(urls, repo, c, base, head) for c in changes], request, 500)

    @router.post(REPO + "/commit/{commit}/statuses/build", status_code=201)
    def post_status(
        workspace: str, slug: str, commit: str, request: Request, body: JsonBody
    ) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        full = resolve_commit(repo, commit)
        for required in ("key", "state", "url"):
            if required not in body:
                raise BitbucketError(400, f"{required}: This field is required.")
        status = body | {
            "type": "build",
            "created_on": now_iso(),
            "updated_on": now_iso(),
            "commit": s.commit_ref(urls, repo, full),
            "repository": s.repo_ref(urls, repo),
            "links": {
                "self": s.link(f"{urls.repo(repo)}/commit/{full}/statuses/build/{body['key']}"),
                "commit": s.link(f"{urls.repo(repo)}/commit/{full}"),
            },
        }
        state.statuses.setdefault((repo.full_name, full), {})[body["key"]] = status
        return status

    @router.get(REPO + "/commit/{commit}/statuses")
    def list_statuses(workspace: str, slug: str, commit: str, request: Request) -> dict[str, Any]:
        repo = get_repo(state, workspace, slug)
        found = state.statuses.get((repo.full_name, resolve_commit(repo, commit)), {})
        return s.page(list(found.values()), request)

    @router.get(REPO + "/commit/{commit}/statuses/build/{key}")
    def get_status(workspace: str, slug: str, commit: str, key: str) -> dict[str, Any]:
        repo = get_repo(state, workspace, slug)
        found = state.statuses.get((repo.full_name, resolve_commit(repo, commit)), {})
        if key not in found:
            raise BitbucketError(404, f"No status with key {key}")
        return found[key]

    @router.get(REPO + "/hooks")
    def list_hooks(workspace: str, slug: str, request: Request) -> dict[str, Any]:
        repo, urls = get_repo(state, workspace, slug), s.Urls.of(request, state)
        hooks = state.sender.hooks("bitbucket-cloud", scope=repo.full_name)
        return s.page([_hook_json(urls, repo, h) for h in hooks], request)

    @router.post(REPO + "/hooks", status_code=201)
    def create_hook(workspace: str, slug: str, request: Request, body: JsonBody) -> dict[str, Any]:
        repo = get_repo(state, workspace, slug)
        if not body.get("url") or not body.get("events"):
            raise BitbucketError(400, "url and events are required")
        hook = state.sender.register(
            "bitbucket-cloud",
            body["url"],
            secret=body.get("secret"),
            events=body["events"],
            scope=repo.full_name,
            description=body.get("description", ""),
        )
        hook.active = bool(body.get("active", True))
        return _hook_json(s.Urls.of(request, state), repo, hook)

    @router.get(REPO + "/hooks/{uid}")
    def get_hook(workspace: str, slug: str, uid: str, request: Request) -> dict[str, Any]:
        repo = get_repo(state, workspace, slug)
        hook = state.sender.get(uid)
        if hook is None or hook.scope != repo.full_name:
            raise BitbucketError(404, "Webhook not found")
        return _hook_json(s.Urls.of(request, state), repo, hook)

    @router.delete(REPO + "/hooks/{uid}", status_code=204)
    def delete_hook(workspace: str, slug: str, uid: str) -> Response:
        get_repo(state, workspace, slug)
        if not state.sender.unregister(uid):
            raise BitbucketError(404, "Webhook not found")
        return Response(status_code=204)

    return router


def git_router(state: CloudState) -> APIRouter:
    """``/{workspace}/{slug}.git/...``: smart HTTP clone, fetch and push of the repositories."""
    router = APIRouter()

    @router.api_route("/{workspace}/{slug}.git/{rest:path}", methods=["GET", "POST"])
    async def git(workspace: str, slug: str, rest: str, request: Request, who: Who) -> Response:
        repo = get_repo(state, workspace, slug)
        path_info = f"/{workspace}/{slug}.git/{rest}"
        response = await serve_git(request, state.git_root, path_info, who.email)
        if is_push(path_info) and response.status_code == 200:
            await sync_after_push(state, s.Urls.of(request, state), repo, who.account_id)
        return response

    return router
