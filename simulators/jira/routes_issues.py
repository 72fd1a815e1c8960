"""Issues: create, get, edit, transitions, edit metadata and comments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from simulators.jira import inputs, render
from simulators.jira.adf import adf_to_wiki, is_adf
from simulators.jira.deps import Who
from simulators.jira.errors import JiraError, api_version, not_found
from simulators.jira.events import JiraEvents
from simulators.jira.state import STATUSES, TRANSITIONS, Issue, JiraState, jira_now

Api = Annotated[str, Depends(api_version)]
JsonBody = Annotated[dict[str, Any], Body()]


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part]


def router(state: JiraState, events: JiraEvents) -> APIRouter:
    """Routes under ``/rest/api/{2,3}/issue``."""
    routes = APIRouter()

    def get_issue(key: str) -> Issue:
        found = state.issue(key)
        if found is None:
            raise not_found()
        return found

    @routes.post("/rest/api/{api}/issue", status_code=201)
    def create(api: Api, body: JsonBody, who: Who) -> dict[str, Any]:
        """Create an issue; ``project`` and ``summary`` are required, like on Jira."""
        wanted = (body.get("fields") or {}).get("project") or {}
        project = state.project(str(wanted.get("key") or wanted.get("id") or ""))
        if project is None:
            raise JiraError(400, errors={"project": "Specify a valid project ID or key"})
        if "summary" not in (body.get("fields") or {}):
            raise JiraError(400, errors={"summary": "You must specify a summary of the issue."})
        issue = state.create_issue(project, inputs.changes(state, body, api), who.account_id)
        events.issue_created(issue, who.account_id)
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{state.site}/rest/api/{api}/issue/{issue.id}",
        }

    @routes.get("/rest/api/{api}/issue/{key}")
    def read(api: Api, key: str, fields: str = "*all", expand: str = "") -> dict[str, Any]:
        """One issue with the chosen fields (``*all`` by default)."""
        chosen = render.select_fields(state, _split(fields), "*all")
        return render.issue(state, get_issue(key), api, chosen, expand)

    @routes.put("/rest/api/{api}/issue/{key}", status_code=204)
    def edit(api: Api, key: str, body: JsonBody, who: Who, notifyUsers: bool = True) -> Response:  # noqa: N803
        """Edit fields and labels; Jira answers 204 without a body."""
        issue = get_issue(key)
        items = inputs.apply(state, issue, body, api)
        for add in (body.get("update") or {}).get("comment", []):
            _comment(issue, add.get("add", {}).get("body", ""), api, who.account_id)
        if items:
            _log(issue, items, who.account_id)
            events.issue_updated(issue, items, who.account_id)
        return Response(status_code=204)

    @routes.delete("/rest/api/{api}/issue/{key}", status_code=204)
    def delete(api: Api, key: str) -> Response:
        """Delete an issue."""
        del state.issues[get_issue(key).key]
        return Response(status_code=204)

    @routes.get("/rest/api/{api}/issue/{key}/editmeta")
    def editmeta(api: Api, key: str) -> dict[str, Any]:
        """Fields on the edit screen (both story-point fields are on it)."""
        get_issue(key)
        listed = {f["id"]: f for f in render.fields_list(state)}
        settable = [*inputs.SETTABLE, state.story_points_id, state.estimate_id]
        return {
            "fields": {
                fid: {
                    "required": fid == "summary",
                    "name": listed[fid]["name"],
                    "key": fid,
                    "schema": listed[fid]["schema"],
                    "operations": ["set"],
                }
                for fid in settable
            }
        }

    @routes.get("/rest/api/{api}/issue/{key}/transitions")
    def transitions(api: Api, key: str) -> dict[str, Any]:
        """Every transition (the simulated workflow allows any move)."""
        get_issue(key)
        return {
            "expand": "transitions",
            "transitions": [
                {
                    "id": tid,
                    "name": STATUSES[target][0],
                    "to": render.status(state, target, api),
                    "hasScreen": False,
                    "isGlobal": True,
                    "isInitial": False,
                    "isAvailable": True,
                    "isConditional": False,
                    "isLooped": False,
                }
                for tid, target in TRANSITIONS.items()
            ],
        }

    @routes.post("/rest/api/{api}/issue/{key}/transitions", status_code=204)
    def transition(api: Api, key: str, body: JsonBody, who: Who) -> Response:
        """Move an issue; Done resolves it (sets ``resolutiondate``)."""
        issue = get_issue(key)
        target = TRANSITIONS.get(str((body.get("transition") or {}).get("id", "")))
        if target is None:
            raise JiraError(400, "Transition id is not valid for this issue.")
        old = issue.fields["status"]
        items = inputs.apply(state, issue, {"fields": body.get("fields") or {}}, api)
        state.set_status(issue, target)
        issue.fields["updated"] = jira_now()
        items.append(
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": old,
                "fromString": STATUSES[old][0],
                "to": target,
                "toString": STATUSES[target][0],
            }
        )
        _log(issue, items, who.account_id)
        events.issue_updated(issue, items, who.account_id, "issue_generic")
        return Response(status_code=204)

    def _log(issue: Issue, items: list[dict[str, Any]], actor: str) -> None:
        issue.fields["updated"] = jira_now()
        entry = {
            "id": str(10000 + state.new_id()),
            "author": render.user(state, actor, "2"),
            "created": issue.fields["updated"],
            "items": items,
        }
        issue.changelog.append(entry)

    def _comment(issue: Issue, value: Any, api: str, author: str) -> dict[str, Any]:
        if api == "3" and not is_adf(value):
            raise JiraError(400, errors={"comment": "Comment body must be an Atlassian Document"})
        if not value or not (is_adf(value) or isinstance(value, str)):
            raise JiraError(400, errors={"comment": "Comment body can not be empty!"})
        text, adf = (adf_to_wiki(value), value) if is_adf(value) else (str(value), None)
        item = state.add_comment(issue, text, adf, author)
        events.comment_created(issue, item)
        return render.comment(state, issue, item, api)

    @routes.post("/rest/api/{api}/issue/{key}/comment", status_code=201)
    def add_comment(api: Api, key: str, body: JsonBody, who: Who) -> dict[str, Any]:
        """Add a comment as the caller (wiki text on v2, ADF on v3; mentions by account id)."""
        return _comment(get_issue(key), body.get("body"), api, who.account_id)

    @routes.get("/rest/api/{api}/issue/{key}/comment")
    def comments(api: Api, key: str, startAt: int = 0, maxResults: int = 50) -> dict[str, Any]:  # noqa: N803
        """An issue's comments, oldest first, paged."""
        issue = get_issue(key)
        page = issue.comments[startAt : startAt + maxResults]
        return {
            "startAt": startAt,
            "maxResults": maxResults,
            "total": len(issue.comments),
            "comments": [render.comment(state, issue, c, api) for c in page],
        }

    @routes.get("/rest/api/{api}/issue/{key}/comment/{comment_id}")
    def one_comment(api: Api, key: str, comment_id: str) -> dict[str, Any]:
        """One comment."""
        issue = get_issue(key)
        found = next((c for c in issue.comments if c.id == comment_id), None)
        if found is None:
            raise not_found("Comment")
        return render.comment(state, issue, found, api)

    return routes
