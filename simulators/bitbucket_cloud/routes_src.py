"""The authenticated user (``GET /2.0/user``) and raw files (``GET …/src/{commit}/{path}``).

``src`` answers a file's raw bytes like the real API; a directory listing
(``paginated_treeentries``) is not simulated (404), nor ``format=meta``/``rendered``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from simulators.bitbucket_cloud import serialize as s
from simulators.bitbucket_cloud.deps import (
    BitbucketError,
    Who,
    current_principal,
    get_repo,
    resolve_commit,
)
from simulators.bitbucket_cloud.state import CloudState

SRC = "/2.0/repositories/{workspace}/{slug}/src/{commit}/{path:path}"


def src_router(state: CloudState) -> APIRouter:
    """``/2.0/user`` and ``…/src/{commit}/{path}``."""
    router = APIRouter(dependencies=[Depends(current_principal)])

    @router.get("/2.0/user")
    def me(request: Request, who: Who) -> dict[str, Any]:
        shown = s.user(s.Urls.of(request, state), who.account_id, state)
        return shown | {"username": shown["nickname"], "account_status": "active"}

    @router.get(SRC)
    async def src(workspace: str, slug: str, commit: str, path: str) -> Response:
        repo = get_repo(state, workspace, slug)
        full = await asyncio.to_thread(resolve_commit, repo, commit)
        data = await asyncio.to_thread(repo.git.blob, full, path)
        if data is None:
            raise BitbucketError(404, f"No such file or directory: {path}")
        return Response(data, media_type="application/octet-stream")

    return router
