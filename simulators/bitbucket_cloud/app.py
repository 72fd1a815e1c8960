"""The Bitbucket Cloud 2.0 simulator app (mounted at ``/bitbucket`` by the combined server)."""

from __future__ import annotations

from fastapi import FastAPI

from simulators.bitbucket_cloud.deps import BitbucketError, error_handler
from simulators.bitbucket_cloud.routes_comments import comments_router
from simulators.bitbucket_cloud.routes_insights import insights_router
from simulators.bitbucket_cloud.routes_pullrequests import pullrequests_router
from simulators.bitbucket_cloud.routes_repos import git_router, repos_router
from simulators.bitbucket_cloud.routes_src import src_router
from simulators.bitbucket_cloud.state import CloudState
from simulators.config import SimulatorConfig
from simulators.webhooks_out import WebhookSender


def reopen_repositories(state: CloudState) -> None:
    """Register the bare repositories already on disk (pull requests are not persisted)."""
    if not state.git_root.is_dir():
        return
    for path in sorted(state.git_root.glob("*/*.git")):
        state.create_repo(path.parent.name, path.name.removesuffix(".git"))


def create_app(config: SimulatorConfig, sender: WebhookSender | None = None) -> FastAPI:
    """Build the app; ``app.state.bitbucket`` is its ``CloudState`` (tests and seeding use it)."""
    state = CloudState(config, sender or WebhookSender())
    reopen_repositories(state)
    app = FastAPI(
        title="Bitbucket Cloud simulator", docs_url="/_sim/docs", openapi_url="/_sim/openapi.json"
    )
    app.state.bitbucket = state
    app.state.sim_config = config
    app.add_exception_handler(BitbucketError, error_handler)
    # Pull request routes first: ".../pullrequests/" must not fall into the git catch-all.
    app.include_router(pullrequests_router(state))
    app.include_router(comments_router(state))
    app.include_router(insights_router(state))
    app.include_router(repos_router(state))
    app.include_router(src_router(state))
    app.include_router(state.sender.router())
    app.include_router(git_router(state))
    return app
