"""Keep pull requests in step with their branches after a push, as Bitbucket does."""

from __future__ import annotations

import asyncio
from typing import Any

from simulators.bitbucket_cloud import serialize as s
from simulators.bitbucket_cloud.deps import emit_pr_event
from simulators.bitbucket_cloud.state import CloudState, PullRequest, Repo, now_iso


def update_activity(
    urls: s.Urls, repo: Repo, pr: PullRequest, actor: str, state: CloudState
) -> dict[str, Any]:
    """An ``update`` activity entry for the current state of ``pr``."""
    return {
        "update": {
            "state": pr.state,
            "title": pr.title,
            "description": pr.description,
            "reason": pr.reason,
            "date": pr.updated_on,
            "author": s.user(urls, actor, state),
            "source": {
                "branch": {"name": pr.source_branch},
                "commit": s.commit_ref(urls, repo, pr.source_hash),
            },
            "destination": {
                "branch": {"name": pr.dest_branch},
                "commit": s.commit_ref(urls, repo, pr.dest_hash),
            },
        },
        "pull_request": {"type": "pullrequest", "id": pr.id, "title": pr.title},
    }


async def sync_after_push(state: CloudState, urls: s.Urls, repo: Repo, actor: str) -> None:
    """Move open PRs to their branches' new heads; a moved source emits ``pullrequest:updated``."""
    heads = await asyncio.to_thread(repo.git.branches)
    for pr in state.pullrequests[repo.full_name].values():
        if pr.state != "OPEN":
            continue
        pr.dest_hash = heads.get(pr.dest_branch, pr.dest_hash)
        new_source = heads.get(pr.source_branch)
        if new_source is None or new_source == pr.source_hash:
            continue
        pr.source_hash = new_source
        pr.updated_on = now_iso()
        pr.activity.append(update_activity(urls, repo, pr, actor, state))
        emit_pr_event(state, urls, repo, pr, "pullrequest:updated", actor)
