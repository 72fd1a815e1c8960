"""Confluence REST v2 (``/wiki/api/v2``): spaces and pages with cursor paging."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from simulators.confluence import render
from simulators.confluence.events import ConfluenceEvents
from simulators.confluence.state import ConfluenceError, ConfluenceState, Page

V2 = "/api/v2"
JsonBody = Annotated[dict[str, Any], Body()]


def _cursor_page(
    items: list[dict[str, Any]], cursor: str | None, limit: int, path: str
) -> dict[str, Any]:
    start = int(cursor) if cursor and cursor.isdigit() else 0
    out: dict[str, Any] = {"results": items[start : start + limit], "_links": {"base": ""}}
    if start + limit < len(items):
        out["_links"]["next"] = f"/wiki{V2}{path}?cursor={start + limit}&limit={limit}"
    return out


def _body(body: dict[str, Any]) -> str:
    value = body.get("body") or {}
    if value.get("representation") != "storage":
        raise ConfluenceError(400, "body.representation must be 'storage'")
    return str(value.get("value") or "")


def router(state: ConfluenceState, events: ConfluenceEvents) -> APIRouter:
    """Routes under ``/api/v2`` (relative to the wiki)."""
    routes = APIRouter()

    def space_key_of(space_id: str) -> str:
        return state.space(space_id).key

    def pages_json(found: list[Page], body_format: str | None) -> list[dict[str, Any]]:
        return [render.page_v2(state, p, body_format) for p in found]

    @routes.get(f"{V2}/spaces")
    def spaces(
        keys: Annotated[list[str] | None, Query()] = None,
        cursor: str | None = None,
        limit: int = 25,
    ) -> dict[str, Any]:
        """Spaces, optionally only the given keys."""
        wanted = {k for item in keys or [] for k in item.split(",")}
        items = [
            render.space_v2(state, s)
            for s in state.spaces.values()
            if not wanted or s.key in wanted
        ]
        return _cursor_page(items, cursor, limit, "/spaces")

    @routes.get(f"{V2}/spaces/{{space_id}}")
    def space(space_id: str) -> dict[str, Any]:
        """One space by id."""
        return render.space_v2(state, state.space(space_id))

    @routes.get(f"{V2}/spaces/{{space_id}}/pages")
    def space_pages(
        space_id: str,
        cursor: str | None = None,
        limit: int = 25,
        body_format: Annotated[str | None, Query(alias="body-format")] = None,
    ) -> dict[str, Any]:
        """Pages of one space."""
        key = space_key_of(space_id)
        found = [p for p in state.pages.values() if p.space_key == key]
        return _cursor_page(
            pages_json(found, body_format), cursor, limit, f"/spaces/{space_id}/pages"
        )

    @routes.get(f"{V2}/pages")
    def pages(
        space_id: Annotated[str | None, Query(alias="space-id")] = None,
        title: str | None = None,
        cursor: str | None = None,
        limit: int = 25,
        body_format: Annotated[str | None, Query(alias="body-format")] = None,
    ) -> dict[str, Any]:
        """Pages, optionally of one space and/or with an exact title."""
        key = space_key_of(space_id) if space_id else None
        found = [
            p
            for p in state.pages.values()
            if (key is None or p.space_key == key) and (title is None or p.title == title)
        ]
        return _cursor_page(pages_json(found, body_format), cursor, limit, "/pages")

    @routes.post(f"{V2}/pages")
    def create(body: JsonBody) -> dict[str, Any]:
        """Create a page in ``spaceId`` (optionally under ``parentId``)."""
        if body.get("status", "current") != "current":
            raise ConfluenceError(400, "The simulator creates current pages only")
        key = space_key_of(str(body.get("spaceId") or ""))
        parent = str(body["parentId"]) if body.get("parentId") else None
        page = state.create_page(key, str(body.get("title") or ""), _body(body), parent)
        events.page_created(page)
        return render.page_v2(state, page, "storage")

    @routes.get(f"{V2}/pages/{{page_id}}")
    def get_page(
        page_id: str, body_format: Annotated[str | None, Query(alias="body-format")] = None
    ) -> dict[str, Any]:
        """One page (``body-format=storage`` includes the body)."""
        return render.page_v2(state, state.page(page_id), body_format)

    @routes.put(f"{V2}/pages/{{page_id}}")
    def update(page_id: str, body: JsonBody) -> dict[str, Any]:
        """Update a page; id, status, title, body and version are required (version = current+1)."""
        missing = [k for k in ("id", "status", "title", "body", "version") if k not in body]
        if missing:
            raise ConfluenceError(400, f"Missing required fields: {', '.join(missing)}")
        if str(body["id"]) != page_id:
            raise ConfluenceError(400, "The id in the body does not match the path")
        page = state.page(page_id)
        version = body["version"] or {}
        state.update_page(
            page,
            int(version.get("number") or 0),
            str(body["title"]),
            _body(body),
            str(version.get("message") or ""),
        )
        events.page_updated(page)
        return render.page_v2(state, page, "storage")

    @routes.delete(f"{V2}/pages/{{page_id}}", status_code=204)
    def delete(page_id: str) -> Response:
        """Delete a page."""
        state.page(page_id)
        del state.pages[page_id]
        return Response(status_code=204)

    @routes.get(f"{V2}/pages/{{page_id}}/versions")
    def versions(page_id: str, cursor: str | None = None, limit: int = 25) -> dict[str, Any]:
        """A page's versions, newest first."""
        page = state.page(page_id)
        items = [
            {**render.version_v2(state, v), "page": {"id": page.id, "title": v.title}}
            for v in reversed(page.versions)
        ]
        return _cursor_page(items, cursor, limit, f"/pages/{page_id}/versions")

    @routes.get(f"{V2}/pages/{{page_id}}/labels")
    def labels(page_id: str, cursor: str | None = None, limit: int = 25) -> dict[str, Any]:
        """A page's labels."""
        page = state.page(page_id)
        items = [
            {"id": str(abs(hash(n)) % 10**9), "name": n, "prefix": "global"} for n in page.labels
        ]
        return _cursor_page(items, cursor, limit, f"/pages/{page_id}/labels")

    @routes.get(f"{V2}/pages/{{page_id}}/children")
    def children(page_id: str, cursor: str | None = None, limit: int = 25) -> dict[str, Any]:
        """Direct child pages (short form)."""
        state.page(page_id)
        items = [
            {
                "id": p.id,
                "status": "current",
                "title": p.title,
                "spaceId": state.spaces[p.space_key].id,
                "childPosition": n,
            }
            for n, p in enumerate(state.children(page_id))
        ]
        return _cursor_page(items, cursor, limit, f"/pages/{page_id}/children")

    return routes
