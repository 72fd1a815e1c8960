"""Remote issue links (``/rest/api/{2,3}/issue/{key}/remotelink``): create or update, list, read.

As on Jira: ``object.url`` and ``object.title`` are required (400 naming the field); a link with
the ``globalId`` of an existing one replaces it (200) instead of adding one (201).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from simulators.jira.errors import JiraError, api_version, not_found
from simulators.jira.state import Issue, JiraState

Api = Annotated[str, Depends(api_version)]
JsonBody = Annotated[dict[str, Any], Body()]


def _checked(body: dict[str, Any]) -> dict[str, Any]:
    target = body.get("object")
    if not isinstance(target, dict):
        raise JiraError(400, errors={"object": "'object' is required."})
    for name in ("url", "title"):
        if not isinstance(target.get(name), str) or not target[name]:
            raise JiraError(400, errors={name: f"'{name}' is required."})
    global_id = body.get("globalId")
    if global_id is not None and (not isinstance(global_id, str) or len(global_id) > 255):
        raise JiraError(400, errors={"globalId": "'globalId' is at most 255 characters."})
    return target


def router(state: JiraState) -> APIRouter:
    """Routes under ``/rest/api/{2,3}/issue/{key}/remotelink``."""
    routes = APIRouter()

    def get_issue(key: str) -> Issue:
        found = state.issue(key)
        if found is None:
            raise not_found()
        return found

    def _bean(api: str, issue: Issue, link_id: int, body: dict[str, Any]) -> dict[str, Any]:
        own = f"{state.site}/rest/api/{api}/issue/{issue.key}/remotelink/{link_id}"
        keep = ("globalId", "application", "relationship", "object")
        return {"id": link_id, "self": own} | {k: body[k] for k in keep if k in body}

    @routes.post("/rest/api/{api}/issue/{key}/remotelink", status_code=201)
    def create(api: Api, key: str, body: JsonBody, response: Response) -> dict[str, Any]:
        """Create a remote link, or replace the one with the same ``globalId``."""
        issue = get_issue(key)
        _checked(body)
        global_id = body.get("globalId")
        for i, link in enumerate(issue.remote_links):
            if global_id and link.get("globalId") == global_id:
                issue.remote_links[i] = _bean(api, issue, int(link["id"]), body)
                response.status_code = 200
                return {"id": link["id"], "self": issue.remote_links[i]["self"]}
        made = _bean(api, issue, state.new_id(), body)
        issue.remote_links.append(made)
        return {"id": made["id"], "self": made["self"]}

    @routes.get("/rest/api/{api}/issue/{key}/remotelink")
    def listing(api: Api, key: str, globalId: str | None = None) -> Any:  # noqa: N803
        """The issue's remote links; with ``globalId`` that one link (the spec's schema is one
        object, its example a list: Jira answers a list, or the one link a globalId names)."""
        links = get_issue(key).remote_links
        if globalId is None:
            return links
        found = [x for x in links if x.get("globalId") == globalId]
        if not found:
            raise not_found()
        return found[0]

    @routes.get("/rest/api/{api}/issue/{key}/remotelink/{link_id}")
    def one(api: Api, key: str, link_id: int) -> dict[str, Any]:
        """One remote link by id."""
        found = [x for x in get_issue(key).remote_links if x["id"] == link_id]
        if not found:
            raise not_found()
        return found[0]

    return routes
