"""The Jira Cloud simulator: platform REST v2/v3, the agile API and webhook registration."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from simulators.auth import require_auth
from simulators.config import SimulatorConfig
from simulators.handle import SimHandle, attach
from simulators.jira import (
    routes_agile,
    routes_issues,
    routes_links,
    routes_meta,
    routes_search,
    routes_webhooks,
)
from simulators.jira.deps import data_center_paths
from simulators.jira.errors import install_handlers
from simulators.jira.events import JiraEvents
from simulators.jira.state import JiraState
from simulators.webhooks_out import WebhookSender

MOUNT = "/jira"


def snapshot(state: JiraState) -> dict[str, Any]:
    """A summary of the site for ``/_sim/state``."""
    return {
        "story_points_field": state.story_points_id,
        "story_point_estimate_field": state.estimate_id,
        "projects": {key: p.board_id for key, p in state.projects.items()},
        "issues": len(state.issues),
        "webhooks": [
            {"id": w.id, "url": w.url, "events": w.events} for w in state.webhooks.values()
        ],
    }


def create_app(config: SimulatorConfig, state: JiraState | None = None) -> FastAPI:
    """A Jira site (mount it at ``state.mount``); every route needs basic or bearer auth.

    ``state.flavour`` ``"dc"`` makes it a Data Center site: REST v2 only, users with ``name`` /
    ``key`` instead of account ids, ``deploymentType: Server`` (see ``dc_app``).
    """
    state = state or JiraState(config)
    sender = WebhookSender()
    events = JiraEvents(state, sender)
    guards = [Depends(require_auth(config))]
    if state.flavour == "dc":
        guards.append(Depends(data_center_paths))
    app = FastAPI(
        title="Jira Data Center simulator" if state.flavour == "dc" else "Jira Cloud simulator",
        dependencies=guards,
        openapi_url=None,
    )
    install_handlers(app)
    app.include_router(routes_meta.router(state))
    app.include_router(routes_issues.router(state, events))
    app.include_router(routes_links.router(state))
    app.include_router(routes_search.router(state))
    app.include_router(routes_agile.router(state, events))
    app.include_router(routes_webhooks.router(state, sender))
    app.state.jira = state

    def reset() -> None:
        for hook in sender.hooks("jira"):
            sender.unregister(hook.uuid)
        sender.clear_log()
        state.reset()

    attach(app, SimHandle(reset, lambda: snapshot(state), sender))
    return app
