"""The Bitbucket Data Center simulator app (mounted at ``/bitbucket-dc`` by the combined server)."""

from __future__ import annotations

from fastapi import FastAPI

from simulators.bitbucket_dc.model import DateStyle, DcState
from simulators.bitbucket_dc.routes import DcError, dc_error_handler, dc_router
from simulators.bitbucket_dc.routes_more import more_router
from simulators.config import SimulatorConfig
from simulators.webhooks_out import WebhookSender


def create_app(
    config: SimulatorConfig, sender: WebhookSender | None = None, date_style: DateStyle = "epoch_ms"
) -> FastAPI:
    """Build the app; ``app.state.bitbucket_dc`` is its ``DcState`` (``date_style`` switchable)."""
    state = DcState(config, sender or WebhookSender(), date_style)
    if state.git_root.is_dir():
        for path in sorted(state.git_root.glob("*/*.git")):
            state.create_repo(path.parent.name, path.name.removesuffix(".git"))
    app = FastAPI(
        title="Bitbucket DC simulator", docs_url="/_sim/docs", openapi_url="/_sim/openapi.json"
    )
    app.state.bitbucket_dc = state
    app.state.sim_config = config
    app.add_exception_handler(DcError, dc_error_handler)
    app.include_router(more_router(state))
    app.include_router(dc_router(state))
    app.include_router(state.sender.router())
    return app
