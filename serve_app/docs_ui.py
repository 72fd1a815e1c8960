"""Swagger UI (``/docs``) and ReDoc (``/redoc``) served offline.

FastAPI's own pages load their JavaScript and CSS from a CDN, so they are blank on a machine
without internet. These pages load the same bundles from the service itself: the ``fastapi-offline``
wheel ships them (Swagger UI 5, ReDoc 2), mounted under ``/docs/assets``.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

ASSETS_URL = "/docs/assets"


def install_docs(api: FastAPI) -> None:
    """Swagger UI and ReDoc from assets shipped in a wheel (fastapi-offline), no CDN."""
    own = {api.docs_url, api.redoc_url, api.swagger_ui_oauth2_redirect_url}
    api.router.routes[:] = [
        r for r in api.router.routes if not (isinstance(r, Route) and r.path in own)
    ]
    assets = resources.files("fastapi_offline") / "static"
    api.mount(ASSETS_URL, StaticFiles(directory=str(assets)), name="docs-assets")
    favicon = f"{ASSETS_URL}/favicon.png"

    @api.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{api.title} - API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css", swagger_favicon_url=favicon,
            swagger_ui_parameters={"persistAuthorization": True},
        )  # fmt: skip

    @api.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json", title=f"{api.title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js", redoc_favicon_url=favicon,
            with_google_fonts=False,
        )  # fmt: skip
