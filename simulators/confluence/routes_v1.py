"""Confluence REST v1 (``/wiki/rest/api``): what ``atlassian.Confluence`` calls."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from simulators.confluence import cql, render
from simulators.confluence.events import ConfluenceEvents
from simulators.confluence.state import ConfluenceError, ConfluenceState, Page

V1 = "/rest/api"
JsonBody = Annotated[dict[str, Any], Body()]


def _storage(body: dict[str, Any]) -> str:
    storage = (body.get("body") or {}).get("storage") or {}
    if storage.get("representation", "storage") != "storage":
        raise ConfluenceError(400, "Only the storage representation is supported")
    return str(storage.get("value") or "")


def _paged(items: list[dict[str, Any]], start: int, limit: int, path: str) -> dict[str, Any]:
    page = items[start : start + limit]
    out: dict[str, Any] = {
        "results": page,
        "start": start,
        "limit": limit,
        "size": len(page),
        "_links": {"self": path, "context": "/wiki"},
    }
    if start + limit < len(items):
        out["_links"]["next"] = f"{path}?start={start + limit}&limit={limit}"
    return out


def router(state: ConfluenceState, events: ConfluenceEvents) -> APIRouter:
    """Routes under ``/rest/api`` (relative to the wiki)."""
    routes = APIRouter()

    @routes.get(f"{V1}/space")
    def spaces(start: int = 0, limit: int = 25) -> dict[str, Any]:
        """All spaces."""
        items = [render.space_v1(state, s) for s in state.spaces.values()]
        return _paged(items, start, limit, f"{state.site}{V1}/space")

    @routes.get(f"{V1}/space/{{key}}")
    def space(key: str) -> dict[str, Any]:
        """One space."""
        return render.space_v1(state, state.space(key))

    @routes.get(f"{V1}/content")
    def list_content(
        spaceKey: str = "",
        title: str = "",
        type: str = "page",  # noqa: N803, A002
        expand: str = "",
        start: int = 0,
        limit: int = 25,
    ) -> dict[str, Any]:
        """Pages of a space, optionally by exact title (``get_page_by_title``)."""
        found = [
            p
            for p in state.pages.values()
            if type == "page"
            and (not spaceKey or p.space_key == spaceKey)
            and (not title or p.title == title)
        ]
        items = [render.content_v1(state, p, expand) for p in found]
        return _paged(items, start, limit, f"{state.site}{V1}/content")

    @routes.post(f"{V1}/content")
    @routes.post(f"{V1}/content/", include_in_schema=False)
    def create(body: JsonBody) -> dict[str, Any]:
        """Create a page (storage body; optional parent as the first ancestor)."""
        if body.get("type", "page") != "page":
            raise ConfluenceError(400, "The simulator creates pages only")
        ancestors = body.get("ancestors") or []
        parent = str(ancestors[-1]["id"]) if ancestors else None
        space_key = str((body.get("space") or {}).get("key") or "")
        page = state.create_page(space_key, str(body.get("title") or ""), _storage(body), parent)
        events.page_created(page)
        return render.content_v1(state, page, "body.storage,ancestors")

    @routes.get(f"{V1}/search")
    def search(cql: str, start: int = 0, limit: int = 25) -> dict[str, Any]:
        """CQL search (subset) returning search results that wrap the content."""
        items = [
            {
                "content": render.content_v1(state, p),
                "title": p.title,
                "excerpt": "",
                "url": render.webui(p),
                "entityType": "content",
                "lastModified": p.version.when,
            }
            for p in _cql(cql)
        ]
        return {**_paged(items, start, limit, f"{state.site}{V1}/search"), "totalSize": len(items)}

    @routes.get(f"{V1}/content/search")
    def content_search(
        cql: str, expand: str = "", start: int = 0, limit: int = 25
    ) -> dict[str, Any]:
        """CQL search (subset) returning content objects."""
        items = [render.content_v1(state, p, expand) for p in _cql(cql)]
        return {
            **_paged(items, start, limit, f"{state.site}{V1}/content/search"),
            "totalSize": len(items),
        }

    def _cql(text: str) -> list[Page]:
        return cql.search(state, text)

    @routes.get(f"{V1}/content/{{page_id}}")
    def get_content(page_id: str, expand: str = "", status: str = "current") -> dict[str, Any]:
        """One page; ``expand`` e.g. ``body.storage,version,ancestors``."""
        return render.content_v1(state, state.page(page_id), expand)

    @routes.put(f"{V1}/content/{{page_id}}")
    def update(page_id: str, body: JsonBody, status: str = "current") -> dict[str, Any]:
        """Update a page: ``version.number`` must be current + 1, else 409 Conflict."""
        page = state.page(page_id)
        version = body.get("version") or {}
        if "number" not in version:
            raise ConfluenceError(400, "Must supply an incremented version when updating Content.")
        title = str(body.get("title") or page.title)
        text = _storage(body) if body.get("body") else page.body
        state.update_page(
            page, int(version["number"]), title, text, str(version.get("message") or "")
        )
        ancestors = body.get("ancestors") or []
        if ancestors:
            page.parent_id = str(ancestors[-1]["id"])
        events.page_updated(page)
        return render.content_v1(state, page, "body.storage")

    @routes.delete(f"{V1}/content/{{page_id}}", status_code=204)
    def delete(page_id: str) -> Response:
        """Delete a page (its children move up to its parent)."""
        page = state.page(page_id)
        for child in state.children(page_id):
            child.parent_id = page.parent_id
        del state.pages[page_id]
        return Response(status_code=204)

    @routes.get(f"{V1}/content/{{page_id}}/history")
    def history(page_id: str) -> dict[str, Any]:
        """Creation and last update (``update_page`` reads ``lastUpdated.number``)."""
        return render.history_v1(state, state.page(page_id))

    @routes.get(f"{V1}/content/{{page_id}}/version")
    def versions(page_id: str, start: int = 0, limit: int = 200) -> dict[str, Any]:
        """Every version, newest first."""
        page = state.page(page_id)
        items = [render.version_v1(state, page, v) for v in reversed(page.versions)]
        return _paged(items, start, limit, f"{state.site}{V1}/content/{page_id}/version")

    @routes.get(f"{V1}/content/{{page_id}}/child/page")
    def child_pages(
        page_id: str, expand: str = "", start: int = 0, limit: int = 25
    ) -> dict[str, Any]:
        """Direct child pages."""
        state.page(page_id)
        items = [render.content_v1(state, p, expand) for p in state.children(page_id)]
        return _paged(items, start, limit, f"{state.site}{V1}/content/{page_id}/child/page")

    @routes.get(f"{V1}/content/{{page_id}}/label")
    def labels(page_id: str) -> dict[str, Any]:
        """A page's labels."""
        return render.labels_v1(state.page(page_id))

    @routes.post(f"{V1}/content/{{page_id}}/label")
    def add_labels(page_id: str, body: Annotated[Any, Body()]) -> dict[str, Any]:
        """Add labels (a list or one ``{"prefix","name"}`` object)."""
        page = state.page(page_id)
        for item in body if isinstance(body, list) else [body]:
            name = str(item.get("name") or "").strip()
            if not name or " " in name:
                raise ConfluenceError(400, "Label names are non-empty and contain no spaces")
            if name not in page.labels:
                page.labels.append(name)
        return render.labels_v1(page)

    @routes.delete(f"{V1}/content/{{page_id}}/label/{{name}}", status_code=204)
    @routes.delete(f"{V1}/content/{{page_id}}/label", status_code=204, include_in_schema=False)
    def remove_label(page_id: str, name: str) -> Response:
        """Remove a label (by path or ``?name=``)."""
        page = state.page(page_id)
        if name not in page.labels:
            raise ConfluenceError(404, f"Label {name} is not on this content")
        page.labels.remove(name)
        return Response(status_code=204)

    return routes
