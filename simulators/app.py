"""The combined simulator server: every product on one port, token endpoints, fault injection and
the ``/_sim`` control endpoints that tests use (faults, reset, state, webhook log).

Mounts: Jira Cloud ``/jira``, Jira Data Center ``/jira-dc``, Confluence ``/wiki``, Bitbucket
Cloud ``/bitbucket``, Bitbucket Data Center ``/bitbucket-dc``, Microsoft Graph ``/graph``;
Atlassian OAuth at ``/authorize`` and ``/oauth/token``, Microsoft identity at
``/login/{tenant}/oauth2/v2.0/token``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Response
from starlette.types import ASGIApp

from simulators.config import SimulatorConfig
from simulators.faults import FaultBook, FaultMiddleware, FaultRule
from simulators.handle import SimHandle, handle_of
from simulators.oauth import microsoft_router, oauth_router

log = logging.getLogger(__name__)

# mount path -> module with create_app(config); optional ones are mounted when they exist.
PRODUCTS: dict[str, str] = {
    "/jira": "simulators.jira.app",
    "/jira-dc": "simulators.jira.dc_app",
    "/wiki": "simulators.confluence.app",
    "/bitbucket": "simulators.bitbucket_cloud.app",
    "/bitbucket-dc": "simulators.bitbucket_dc.app",
    "/graph": "simulators.graph.app",
}


def _factory(module_name: str) -> Callable[[SimulatorConfig], ASGIApp] | None:
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
    except ModuleNotFoundError:  # the package itself is missing
        return None
    factory: Callable[[SimulatorConfig], ASGIApp] = importlib.import_module(module_name).create_app
    return factory


def mounted_handles(app: FastAPI) -> dict[str, SimHandle]:
    """The ``SimHandle`` of every mounted product, by mount path."""
    handles: dict[str, SimHandle] = app.state.handles
    return handles


def _control_routes(app: FastAPI, book: FaultBook) -> None:
    @app.post("/_sim/faults", status_code=201, tags=["simulator"])
    def add_fault(rule: FaultRule) -> FaultRule:
        """Inject a fault for requests under ``rule.path_prefix``."""
        return book.add(rule)

    @app.get("/_sim/faults", tags=["simulator"])
    def list_faults() -> list[FaultRule]:
        """Active fault rules."""
        return book.rules()

    @app.delete("/_sim/faults", status_code=204, tags=["simulator"])
    def clear_faults() -> Response:
        """Remove every fault rule."""
        book.clear()
        return Response(status_code=204)

    @app.post("/_sim/reset", status_code=204, tags=["simulator"])
    def reset() -> Response:
        """Empty every product's state, forget faults and webhook deliveries."""
        book.clear()
        for handle in mounted_handles(app).values():
            handle.reset()
        return Response(status_code=204)

    @app.get("/_sim/state", tags=["simulator"])
    def state() -> dict[str, Any]:
        """A summary of every product's state (and its webhook deliveries)."""
        out: dict[str, Any] = {"faults": [r.model_dump() for r in book.rules()]}
        for path, handle in mounted_handles(app).items():
            summary = handle.snapshot()
            if handle.sender is not None:
                summary["deliveries"] = [d.summary() for d in handle.sender.deliveries()]
            out[path.strip("/")] = summary
        return out


def create_app(config: SimulatorConfig | None = None) -> FastAPI:
    """All simulators behind one ASGI app (run it with uvicorn)."""
    config = config or SimulatorConfig.model_validate({})
    book = FaultBook()
    app = FastAPI(title="dcoder Atlassian & Microsoft Graph simulators", version="1")
    app.state.config = config
    app.state.faults = book
    app.state.handles = {}
    _control_routes(app, book)
    app.include_router(oauth_router(config))
    app.include_router(microsoft_router(config))
    for path, module_name in PRODUCTS.items():
        factory = _factory(module_name)
        if factory is None:
            log.warning("simulator %s is not available; %s is not mounted", module_name, path)
            continue
        sub_app = factory(config)
        app.mount(path, sub_app)
        handle = handle_of(sub_app)
        if handle is not None:
            app.state.handles[path] = handle
    app.add_middleware(FaultMiddleware, book=book)
    return app
