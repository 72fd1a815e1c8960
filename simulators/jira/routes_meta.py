"""Site metadata: server info, session, myself, users, fields, projects, statuses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from simulators.jira import render
from simulators.jira.deps import Who
from simulators.jira.errors import JiraError, api_version, not_found
from simulators.jira.state import ISSUE_TYPES, STATUSES, JiraState, jira_now

Api = Annotated[str, Depends(api_version)]


def router(state: JiraState) -> APIRouter:
    """Routes under ``/rest/api/{2,3}`` and ``/rest/auth/1`` that describe the site."""
    routes = APIRouter()

    @routes.get("/rest/api/{api}/serverInfo")
    def server_info(api: Api) -> dict[str, Any]:
        """What ``jira.JIRA()`` reads at start-up (``versionNumbers``, ``deploymentType``)."""
        dc = state.flavour == "dc"
        return {
            "baseUrl": state.site,
            "version": "9.12.0" if dc else "1001.0.0-SNAPSHOT",
            "versionNumbers": [9, 12, 0] if dc else [1001, 0, 0],
            "deploymentType": "Server" if dc else "Cloud",
            "buildNumber": 912000 if dc else 100290,
            "buildDate": "2025-09-23T00:00:00.000+0000",
            "serverTime": jira_now(),
            "scmInfo": "simulator",
            "serverTitle": "Jira (dcoder simulator)",
        }

    @routes.get("/rest/auth/1/session")
    def session(who: Who) -> dict[str, Any]:
        """The legacy session resource ``JIRA(validate=True)`` calls."""
        return {
            "self": f"{state.site}/rest/api/2/user?accountId={who.account_id}",
            "name": who.email,
            "loginInfo": {},
        }

    @routes.get("/rest/api/{api}/myself")
    def myself(api: Api, who: Who) -> dict[str, Any]:
        """The caller's account; includes the e-mail, as Jira does for oneself."""
        me = render.user(state, who.account_id, api) or {}
        return {
            **me,
            "emailAddress": who.email,
            "locale": "en_US",
            "groups": {"size": 1, "items": []},
            "applicationRoles": {"size": 1, "items": []},
        }

    @routes.get("/rest/api/{api}/user")
    def get_user(api: Api, accountId: str = "", username: str = "") -> dict[str, Any]:  # noqa: N803
        """One user by account id (Cloud) or user name (Data Center)."""
        wanted = accountId
        if state.flavour == "dc":
            names = {u.username: u.account_id for u in state.users.values()}
            wanted = names.get(username, "")
        elif not wanted:
            raise JiraError(400, "The query parameter 'accountId' is required.")
        found = render.user(state, wanted, api)
        if found is None:
            raise not_found("User")
        return found

    @routes.get("/rest/api/{api}/user/search")
    def search_users(
        api: Api,
        query: str = "",
        username: str = "",
        maxResults: int = 50,  # noqa: N803
    ) -> list[dict[str, Any]]:
        """Users whose name, e-mail (or DC user name) contains ``query`` (DC: ``username``)."""
        needle = (query or username).lower()
        hits = [
            u
            for u in state.users.values()
            if needle in u.display_name.lower()
            or needle in u.email.lower()
            or (state.flavour == "dc" and needle in u.username.lower())
        ]
        return [render.user(state, u.account_id, api) or {} for u in hits[:maxResults]]

    @routes.get("/rest/api/{api}/field")
    def fields(api: Api) -> list[dict[str, Any]]:
        """Every field; the story-point fields have this site's own custom ids."""
        return render.fields_list(state)

    @routes.get("/rest/api/{api}/project")
    def projects(api: Api) -> list[dict[str, Any]]:
        """All projects (the deprecated unpaged list that SDKs still call)."""
        return [render.project(state, p, api) for p in state.projects.values()]

    @routes.get("/rest/api/{api}/project/search")
    def project_search(
        api: Api, startAt: int = 0, maxResults: int = Query(50, le=100)
    ) -> dict[str, Any]:  # noqa: N803
        """Projects, paged."""
        items = list(state.projects.values())
        page = [render.project(state, p, api) for p in items[startAt : startAt + maxResults]]
        return {
            "self": f"{state.site}/rest/api/{api}/project/search",
            "startAt": startAt,
            "maxResults": maxResults,
            "total": len(items),
            "isLast": startAt + maxResults >= len(items),
            "values": page,
        }

    @routes.get("/rest/api/{api}/project/{key}")
    def project(api: Api, key: str) -> dict[str, Any]:
        """One project with its issue types and lead."""
        found = state.project(key)
        if found is None:
            raise not_found("Project")
        types = [render.issue_type(state, t, api) for t in ISSUE_TYPES]
        lead = render.user(state, found.lead, api)
        return {
            **render.project(state, found, api),
            "issueTypes": types,
            "lead": lead,
            "description": "",
            "assigneeType": "UNASSIGNED",
            "style": "classic",
        }

    @routes.get("/rest/api/{api}/status")
    def statuses(api: Api) -> list[dict[str, Any]]:
        """The workflow's statuses."""
        return [render.status(state, sid, api) for sid in STATUSES]

    @routes.get("/rest/api/{api}/issuetype")
    def issue_types(api: Api) -> list[dict[str, Any]]:
        """The issue types."""
        return [render.issue_type(state, t, api) for t in ISSUE_TYPES]

    return routes
