"""JSON shapes of Confluence resources: v1 ``content`` and v2 ``pages``/``spaces``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from simulators.auth import DEMO_DISPLAY_NAME
from simulators.confluence.state import ConfluenceState, Page, Space, Version


def user_v1(state: ConfluenceState) -> dict[str, Any]:
    """The demo user as v1 embeds users."""
    return {
        "type": "known",
        "accountId": state.account_id,
        "accountType": "atlassian",
        "publicName": DEMO_DISPLAY_NAME,
        "displayName": DEMO_DISPLAY_NAME,
        "profilePicture": {
            "path": "/wiki/aa-avatar/default.png",
            "width": 48,
            "height": 48,
            "isDefault": True,
        },
    }


def space_v1(state: ConfluenceState, space: Space) -> dict[str, Any]:
    """A v1 space."""
    return {
        "id": int(space.id),
        "key": space.key,
        "name": space.name,
        "type": "global",
        "status": "current",
        "_expandable": {"homepage": f"/rest/api/content/{space.homepage_id}"},
        "_links": {
            "webui": f"/spaces/{space.key}",
            "self": f"{state.site}/rest/api/space/{space.key}",
        },
    }


def version_v1(state: ConfluenceState, page: Page, version: Version) -> dict[str, Any]:
    """A v1 version object."""
    return {
        "by": user_v1(state),
        "when": version.when,
        "message": version.message,
        "number": version.number,
        "minorEdit": version.minor_edit,
        "_links": {"self": f"{state.site}/rest/api/content/{page.id}/version/{version.number}"},
    }


def webui(page: Page) -> str:
    """The page's web path, relative to the wiki."""
    return f"/spaces/{page.space_key}/pages/{page.id}/{quote_plus(page.title)}"


def content_v1(state: ConfluenceState, page: Page, expand: str = "") -> dict[str, Any]:
    """A v1 ``content`` object of type page; ``expand`` adds body, ancestors, history, ..."""
    wanted = set(expand.split(",")) if expand else set()
    out: dict[str, Any] = {
        "id": page.id,
        "type": "page",
        "status": "current",
        "title": page.title,
        "space": space_v1(state, state.spaces[page.space_key]),
        "version": version_v1(state, page, page.version),
        "_links": {
            "webui": webui(page),
            "self": f"{state.site}/rest/api/content/{page.id}",
            "tinyui": f"/x/{page.id}",
            "base": state.site,
            "context": "/wiki",
        },
        "_expandable": {
            "children": f"/rest/api/content/{page.id}/child",
            "history": f"/rest/api/content/{page.id}/history",
        },
    }
    if wanted & {"body.storage", "body"} or any(w.startswith("body.") for w in wanted):
        out["body"] = {
            "storage": {
                "value": page.body,
                "representation": "storage",
                "_expandable": {"content": f"/rest/api/content/{page.id}"},
            }
        }
    if "ancestors" in wanted:
        out["ancestors"] = [content_v1(state, a) for a in state.ancestors(page)]
    if "history" in wanted or "history.lastUpdated" in wanted:
        out["history"] = history_v1(state, page)
    if "metadata.labels" in wanted:
        out["metadata"] = {"labels": labels_v1(page)}
    return out


def history_v1(state: ConfluenceState, page: Page) -> dict[str, Any]:
    """``GET /content/{id}/history``: who created it and the last update."""
    first = page.versions[0]
    return {
        "latest": True,
        "createdBy": user_v1(state),
        "createdDate": first.when,
        "lastUpdated": version_v1(state, page, page.version),
        "_links": {"self": f"{state.site}/rest/api/content/{page.id}/history"},
    }


def labels_v1(page: Page) -> dict[str, Any]:
    """A v1 label page."""
    results = [
        {"prefix": "global", "name": n, "id": str(abs(hash(n)) % 10**9), "label": n}
        for n in page.labels
    ]
    return {"results": results, "start": 0, "limit": 200, "size": len(results)}


def page_v2(state: ConfluenceState, page: Page, body_format: str | None) -> dict[str, Any]:
    """A v2 page; ``body_format=storage`` includes the storage body."""
    space = state.spaces[page.space_key]
    out: dict[str, Any] = {
        "id": page.id,
        "status": "current",
        "title": page.title,
        "spaceId": space.id,
        "parentId": page.parent_id,
        "parentType": "page" if page.parent_id else None,
        "position": 0,
        "authorId": state.account_id,
        "ownerId": state.account_id,
        "lastOwnerId": None,
        "createdAt": page.versions[0].when,
        "version": version_v2(state, page.version),
        "body": {},
        "_links": {
            "webui": webui(page),
            "editui": f"/pages/resumedraft.action?draftId={page.id}",
            "tinyui": f"/x/{page.id}",
            "base": state.site,
        },
    }
    for key in ("parentId", "parentType", "lastOwnerId"):
        if out[key] is None:  # the spec marks them not nullable: omitted, as for a space root
            del out[key]
    if body_format == "storage":
        out["body"] = {"storage": {"representation": "storage", "value": page.body}}
    return out


def version_v2(state: ConfluenceState, version: Version) -> dict[str, Any]:
    """A v2 version object."""
    return {
        "createdAt": version.when,
        "message": version.message,
        "number": version.number,
        "minorEdit": version.minor_edit,
        "authorId": state.account_id,
    }


def space_v2(state: ConfluenceState, space: Space) -> dict[str, Any]:
    """A v2 space."""
    return {
        "id": space.id,
        "key": space.key,
        "name": space.name,
        "type": "global",
        "status": "current",
        "authorId": state.account_id,
        "createdAt": "2024-01-01T00:00:00.000Z",
        "homepageId": space.homepage_id,
        "_links": {"webui": f"/spaces/{space.key}"},
    }
