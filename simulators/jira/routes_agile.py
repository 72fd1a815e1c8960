"""Jira Software agile API: boards, board configuration (estimation field), issue estimation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from simulators.jira import inputs
from simulators.jira.deps import Who
from simulators.jira.errors import JiraError, not_found
from simulators.jira.events import JiraEvents
from simulators.jira.state import JiraState, Project, jira_now

AGILE = "/rest/agile/1.0"


def router(state: JiraState, events: JiraEvents) -> APIRouter:
    """Routes under ``/rest/agile/1.0``."""
    routes = APIRouter()

    def board_json(project: Project) -> dict[str, Any]:
        return {
            "id": project.board_id,
            "self": f"{state.site}{AGILE}/board/{project.board_id}",
            "name": f"{project.key} board",
            "type": "scrum",
            "location": {
                "projectId": int(project.id),
                "projectKey": project.key,
                "projectName": project.name,
                "projectTypeKey": "software",
                "displayName": f"{project.name} ({project.key})",
            },
        }

    def get_board(board_id: int) -> Project:
        project = state.board(board_id)
        if project is None:
            raise JiraError(404, "Board does not exist or you do not have permission to see it.")
        return project

    @routes.get(f"{AGILE}/board")
    def boards(projectKeyOrId: str = "", startAt: int = 0, maxResults: int = 50) -> dict[str, Any]:  # noqa: N803
        """Boards, optionally of one project."""
        wanted = state.project(projectKeyOrId) if projectKeyOrId else None
        items = [p for p in state.projects.values() if not projectKeyOrId or p is wanted]
        page = items[startAt : startAt + maxResults]
        return {
            "maxResults": maxResults,
            "startAt": startAt,
            "total": len(items),
            "isLast": startAt + maxResults >= len(items),
            "values": [board_json(p) for p in page],
        }

    @routes.get(f"{AGILE}/board/{{board_id}}")
    def board(board_id: int) -> dict[str, Any]:
        """One board."""
        return board_json(get_board(board_id))

    @routes.get(f"{AGILE}/board/{{board_id}}/configuration")
    def configuration(board_id: int) -> dict[str, Any]:
        """Board configuration; ``estimation.field.fieldId`` is this site's story-points field."""
        project = get_board(board_id)
        self_url = f"{state.site}{AGILE}/board/{board_id}/configuration"
        columns = [("To Do", "10000"), ("In Progress", "3"), ("Done", "10001")]
        return {
            "id": board_id,
            "name": f"{project.key} board",
            "type": "scrum",
            "self": self_url,
            "location": {"type": "project", "projectKeyOrId": project.key},
            "filter": {
                "id": str(10000 + board_id),
                "self": f"{state.site}/rest/api/2/filter/{10000 + board_id}",
            },
            "columnConfig": {
                "columns": [
                    {
                        "name": name,
                        "statuses": [{"id": sid, "self": f"{state.site}/rest/api/2/status/{sid}"}],
                    }
                    for name, sid in columns
                ],
                "constraintType": "none",
            },
            "estimation": {
                "type": "field",
                "field": {"fieldId": state.story_points_id, "displayName": "Story Points"},
            },
            "ranking": {"rankCustomFieldId": 10019},
        }

    @routes.get(f"{AGILE}/issue/{{key}}/estimation")
    def get_estimation(key: str, boardId: int) -> dict[str, Any]:  # noqa: N803
        """The estimate of an issue on a board."""
        issue = state.issue(key)
        if issue is None:
            raise not_found()
        get_board(boardId)
        value = issue.fields.get(state.story_points_id)
        return {"fieldId": state.story_points_id, "value": value}

    @routes.put(f"{AGILE}/issue/{{key}}/estimation")
    def set_estimation(
        key: str,
        boardId: int,
        body: Annotated[dict[str, Any], Body()],  # noqa: N803
        who: Who,
    ) -> dict[str, Any]:
        """Write the estimate into the board's estimation field (value may be a string)."""
        issue = state.issue(key)
        if issue is None:
            raise not_found()
        get_board(boardId)
        fid = state.story_points_id
        items = inputs.apply(state, issue, {"fields": {fid: body.get("value")}}, "2")
        if items:
            issue.fields["updated"] = jira_now()
            issue.changelog.append(
                {"id": str(10000 + state.new_id()), "created": jira_now(), "items": items}
            )
            events.issue_updated(issue, items, who.account_id)
        return {"fieldId": fid, "value": issue.fields.get(fid)}

    return routes
