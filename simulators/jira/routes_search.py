"""JQL search: the classic ``/search`` (startAt/total) and the enhanced ``/search/jql`` (tokens)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from simulators.jira import jql, render
from simulators.jira.errors import JiraError, api_version
from simulators.jira.state import JiraState

Api = Annotated[str, Depends(api_version)]
MAX_RESULTS = 100  # Jira caps one page at 100 issues (5000 for id-only queries; not simulated)


def _fields(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split(",")
    return [str(v) for v in value or []]


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "POST":
        body = await request.json()
        if not isinstance(body, dict):
            raise JiraError(400, "Request body must be a JSON object.")
        return body
    params: dict[str, Any] = dict(request.query_params)
    params["fields"] = [f for v in request.query_params.getlist("fields") for f in v.split(",")]
    return params


def _run(state: JiraState, params: dict[str, Any]) -> list[Any]:
    try:
        return jql.search(state, str(params.get("jql") or ""))
    except jql.JqlError as err:
        raise JiraError(400, str(err)) from err


def router(state: JiraState) -> APIRouter:
    """Routes ``/rest/api/{2,3}/search`` and ``/rest/api/{2,3}/search/jql`` (GET and POST)."""
    routes = APIRouter()

    @routes.api_route("/rest/api/{api}/search", methods=["GET", "POST"])
    async def search(api: Api, request: Request) -> dict[str, Any]:
        """Classic search: ``startAt``/``maxResults``/``total``; default fields ``*navigable``."""
        params = await _params(request)
        found = _run(state, params)
        start = int(params.get("startAt") or 0)
        size = min(int(params.get("maxResults") or 50), MAX_RESULTS)
        chosen = render.select_fields(state, _fields(params.get("fields")), "*navigable")
        expand = str(params.get("expand") or "")
        page = [render.issue(state, i, api, chosen, expand) for i in found[start : start + size]]
        return {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(found),
            "issues": page,
        }

    @routes.api_route("/rest/api/{api}/search/jql", methods=["GET", "POST"])
    async def search_jql(api: Api, request: Request) -> dict[str, Any]:
        """Enhanced search: ``nextPageToken`` paging, ``isLast``; default field ``id`` only."""
        params = await _params(request)
        found = _run(state, params)
        token = str(params.get("nextPageToken") or "0")
        if not token.isdigit():
            raise JiraError(400, "The provided next page token is invalid or expired.")
        start = int(token)
        size = min(int(params.get("maxResults") or 50), MAX_RESULTS)
        chosen = render.select_fields(state, _fields(params.get("fields")), "id")
        expand = str(params.get("expand") or "")
        page = [render.issue(state, i, api, chosen, expand) for i in found[start : start + size]]
        result: dict[str, Any] = {"issues": page, "isLast": start + size >= len(found)}
        if not result["isLast"]:
            result["nextPageToken"] = str(start + size)
        return result

    @routes.post("/rest/api/{api}/search/approximate-count")
    def approximate_count(api: Api, body: Annotated[dict[str, Any], Body()]) -> dict[str, int]:
        """How many issues a query matches."""
        return {"count": len(_run(state, body))}

    return routes
