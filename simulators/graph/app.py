"""Microsoft Graph for SharePoint: sites, site pages (create, update, publish), drive uploads.

Callers get a token from ``/login/{tenant}/oauth2/v2.0/token`` (client credentials) and call
``/graph/v1.0/...`` with ``Authorization: Bearer``; basic auth is refused, as on Graph.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from simulators.auth import GRAPH, require_auth
from simulators.config import SimulatorConfig
from simulators.handle import SimHandle, attach

MOUNT = "/graph"
HOSTNAME = "contoso.sharepoint.com"
JsonBody = Annotated[dict[str, Any], Body()]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GraphError(Exception):
    """A Graph error: ``{"error": {"code", "message", "innerError"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class GraphState:
    """Sites with pages and drive items."""

    sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.add_site("demo", "Demo site")

    def add_site(self, path: str, name: str) -> dict[str, Any]:
        """A site ``/sites/<path>`` on the simulated tenant."""
        ident = f"{HOSTNAME},{uuid.uuid4()},{uuid.uuid4()}"
        site = {
            "id": ident,
            "name": path,
            "displayName": name,
            "createdDateTime": _now(),
            "webUrl": f"https://{HOSTNAME}/sites/{path}",
        }
        self.sites[ident] = site
        return site

    def site(self, ident: str) -> dict[str, Any]:
        """A site by id or by ``hostname:/sites/path`` (the form Graph accepts)."""
        if ident in self.sites:
            return self.sites[ident]
        host, _, path = ident.partition(":")
        wanted = f"https://{host}{path.rstrip(':')}"
        for site in self.sites.values():
            if site["webUrl"] == wanted:
                return site
        raise GraphError(404, "itemNotFound", "Requested site could not be found")


def _routes(app: FastAPI, state: GraphState) -> None:  # noqa: C901 - one place for all routes
    @app.get("/v1.0/sites/{site_ref:path}/pages/{page_id}")
    def get_page(site_ref: str, page_id: str) -> dict[str, Any]:
        """One site page."""
        state.site(site_ref)
        page = state.pages.get(page_id)
        if page is None:
            raise GraphError(404, "itemNotFound", "The page could not be found")
        return page

    @app.post("/v1.0/sites/{site_ref}/pages", status_code=201)
    def create_page(site_ref: str, body: JsonBody) -> dict[str, Any]:
        """Create a draft ``sitePage`` (``name`` ends in ``.aspx``, ``title`` required)."""
        site = state.site(site_ref)
        name, title = str(body.get("name") or ""), str(body.get("title") or "")
        if not name.endswith(".aspx") or not title:
            raise GraphError(400, "invalidRequest", "name (*.aspx) and title are required")
        ident = str(uuid.uuid4())
        page = {
            "@odata.type": "#microsoft.graph.sitePage",
            "id": ident,
            "name": name,
            "title": title,
            "pageLayout": body.get("pageLayout", "article"),
            "webUrl": f"SitePages/{name}",
            "createdDateTime": _now(),
            "lastModifiedDateTime": _now(),
            "publishingState": {"level": "checkout", "versionId": "0.1"},
            "canvasLayout": body.get("canvasLayout"),
            "siteId": site["id"],
        }
        state.pages[ident] = page
        return page

    @app.patch("/v1.0/sites/{site_ref}/pages/{page_id}/microsoft.graph.sitePage")
    def update_page(site_ref: str, page_id: str, body: JsonBody) -> dict[str, Any]:
        """Update title / canvas of a page (it becomes a draft until published again)."""
        page = get_page(site_ref, page_id)
        for key in ("title", "canvasLayout", "description", "showComments", "titleArea"):
            if key in body:
                page[key] = body[key]
        page["lastModifiedDateTime"] = _now()
        major = page["publishingState"]["versionId"].split(".")[0]
        page["publishingState"] = {"level": "checkout", "versionId": f"{major}.1"}
        return page

    @app.post(
        "/v1.0/sites/{site_ref}/pages/{page_id}/microsoft.graph.sitePage/publish", status_code=204
    )
    def publish(site_ref: str, page_id: str) -> None:
        """Publish the page: a new major version."""
        page = get_page(site_ref, page_id)
        major = int(page["publishingState"]["versionId"].split(".")[0]) + 1
        page["publishingState"] = {"level": "published", "versionId": f"{major}.0"}

    @app.get("/v1.0/sites/{site_ref}/pages")
    def list_pages(site_ref: str) -> dict[str, Any]:
        """Pages of a site."""
        site = state.site(site_ref)
        return {"value": [p for p in state.pages.values() if p["siteId"] == site["id"]]}

    @app.put("/v1.0/sites/{site_ref}/drive/root:/{item_path:path}:/content")
    async def upload(site_ref: str, item_path: str, request: Request) -> JSONResponse:
        """Simple upload: create (201) or overwrite (200) a file by path."""
        site = state.site(site_ref)
        key = f"{site['id']}/{item_path}"
        content = await request.body()
        existing = state.items.get(key)
        item = existing or {"id": uuid.uuid4().hex.upper(), "createdDateTime": _now()}
        item |= {
            "name": item_path.rsplit("/", 1)[-1],
            "size": len(content),
            "lastModifiedDateTime": _now(),
            "webUrl": f"{site['webUrl']}/Shared%20Documents/{item_path}",
            "file": {"mimeType": request.headers.get("content-type", "application/octet-stream")},
            "parentReference": {"driveType": "documentLibrary", "siteId": site["id"]},
        }
        state.items[key], state.contents[key] = item, content
        return JSONResponse(item, status_code=200 if existing else 201)

    @app.get("/v1.0/sites/{site_ref:path}")
    def get_site(site_ref: str) -> dict[str, Any]:
        """A site by id or ``{hostname}:/sites/{path}``."""
        return state.site(site_ref)


def create_app(config: SimulatorConfig, state: GraphState | None = None) -> FastAPI:
    """The Graph simulator (mount it at ``/graph``); needs a bearer token from the MS endpoint."""
    state = state or GraphState()
    app = FastAPI(
        title="Microsoft Graph simulator",
        openapi_url=None,
        dependencies=[Depends(require_auth(config, GRAPH))],
    )

    @app.exception_handler(GraphError)
    async def graph_error(_request: Request, err: GraphError) -> JSONResponse:
        body = {"error": {"code": err.code, "message": err.message, "innerError": {"date": _now()}}}
        return JSONResponse(body, status_code=err.status)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, err: HTTPException) -> JSONResponse:
        body = {"error": {"code": "InvalidAuthenticationToken", "message": str(err.detail)}}
        return JSONResponse(body, status_code=err.status_code, headers=err.headers)

    _routes(app, state)
    app.state.graph = state

    def reset() -> None:
        fresh = GraphState()
        state.sites, state.pages, state.items, state.contents = fresh.sites, {}, {}, {}

    def snapshot() -> dict[str, Any]:
        return {
            "sites": [s["webUrl"] for s in state.sites.values()],
            "pages": len(state.pages),
            "files": sorted(state.items),
        }

    attach(app, SimHandle(reset, snapshot))
    return app
