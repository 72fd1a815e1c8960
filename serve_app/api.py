"""The FastAPI application: routers, problem+json errors, metrics, body-size limit."""

from __future__ import annotations

from fastapi import FastAPI

from serve_app.guard import RequestGuard
from serve_app.problems import install_problem_handlers
from serve_app.routers import audit, catalog, health, instances, jobs, llm, oauth, tenants, webhooks
from serve_app.services import Services


def create_api(svc: Services) -> FastAPI:
    """Build the API around one replica's services."""
    api = FastAPI(
        title="dcoder-integrations",
        version="0.1.0",
        description="Integrations Service: Atlassian plugins, signed webhooks and AI agents.",
    )
    api.state.services = svc
    install_problem_handlers(api)
    # Starlette wraps the app in middlewares in reverse order of adding: metrics outermost.
    api.add_middleware(webhooks.WebhookFastPath, svc=svc)
    api.add_middleware(RequestGuard, settings=svc.settings.http)
    svc.metrics.install(api)
    api.include_router(health.router)
    api.include_router(tenants.router)
    api.include_router(catalog.router)
    api.include_router(instances.router)
    api.include_router(oauth.router)
    api.include_router(webhooks.router)
    api.include_router(jobs.router)
    api.include_router(llm.router)
    api.include_router(audit.router)
    return api
