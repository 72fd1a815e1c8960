"""Every implemented Jira / Confluence operation answers what the official specs document.

Jira v2 has no separate spec: its JSON is checked against the v3 operation (the non-ADF shapes
are the same there; rich-text fields are free-form in the v3 schemas).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.simulators.conftest import SimServer
from tests.simulators.contract import (
    AGILE,
    CONFLUENCE_V1,
    CONFLUENCE_V2,
    JIRA,
    assert_conforms,
    require_specs,
)


@pytest.fixture(autouse=True)
def _specs() -> None:
    require_specs()


def _check(
    http: Any, spec: str, method: str, url: str, template: str, status: int, **kwargs: Any
) -> Any:
    answer = http.request(method, url, **kwargs)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert_conforms(spec, method, template, status, body)
    return body


def test_jira_operations_conform(sim: SimServer) -> None:
    key = "C" + uuid.uuid4().hex[:5].upper()
    board = sim.mounted("/jira").state.jira.add_project(key, "Contract").board_id
    with sim.client() as http:
        for v in ("2", "3"):
            p = f"/jira/rest/api/{v}"
            _check(http, JIRA, "get", f"{p}/serverInfo", "/rest/api/3/serverInfo", 200)
            me = _check(http, JIRA, "get", f"{p}/myself", "/rest/api/3/myself", 200)
            _check(
                http,
                JIRA,
                "get",
                f"{p}/user",
                "/rest/api/3/user",
                200,
                params={"accountId": me["accountId"]},
            )
            _check(http, JIRA, "get", f"{p}/field", "/rest/api/3/field", 200)
            _check(
                http, JIRA, "get", f"{p}/project/{key}", "/rest/api/3/project/{projectIdOrKey}", 200
            )
            fields = {
                "project": {"key": key},
                "summary": "s",
                "issuetype": {"name": "Story"},
                "labels": ["x"],
            }
            made = _check(
                http, JIRA, "post", f"{p}/issue", "/rest/api/3/issue", 201, json={"fields": fields}
            )
            issue_path = "/rest/api/3/issue/{issueIdOrKey}"
            _check(
                http,
                JIRA,
                "get",
                f"{p}/issue/{made['key']}",
                issue_path,
                200,
                params={"expand": "names,changelog"},
            )
            body: Any = "hi" if v == "2" else {"type": "doc", "version": 1, "content": []}
            _check(
                http,
                JIRA,
                "post",
                f"{p}/issue/{made['key']}/comment",
                issue_path + "/comment",
                201,
                json={"body": body},
            )
            _check(
                http, JIRA, "get", f"{p}/issue/{made['key']}/comment", issue_path + "/comment", 200
            )
            _check(
                http,
                JIRA,
                "get",
                f"{p}/issue/{made['key']}/transitions",
                issue_path + "/transitions",
                200,
            )
            _check(
                http,
                JIRA,
                "get",
                f"{p}/issue/{made['key']}/editmeta",
                issue_path + "/editmeta",
                200,
            )
            jql = {
                "jql": f"project = {key} ORDER BY created DESC",
                "fields": "*navigable",
                "maxResults": 1,
            }
            _check(http, JIRA, "get", f"{p}/search/jql", "/rest/api/3/search/jql", 200, params=jql)
            _check(
                http,
                JIRA,
                "post",
                f"{p}/search/jql",
                "/rest/api/3/search/jql",
                200,
                json={**jql, "fields": ["summary", "status"]},
            )
        agile = "/jira/rest/agile/1.0"
        _check(http, AGILE, "get", f"{agile}/board", "/rest/agile/1.0/board", 200)
        _check(
            http,
            AGILE,
            "get",
            f"{agile}/board/{board}/configuration",
            "/rest/agile/1.0/board/{boardId}/configuration",
            200,
        )


def test_confluence_operations_conform(sim: SimServer) -> None:
    storage = {"storage": {"value": "<p>a</p>", "representation": "storage"}}
    title = "contract " + uuid.uuid4().hex[:6]
    with sim.client() as http:
        v1 = "/wiki/rest/api"
        made = _check(
            http,
            CONFLUENCE_V1,
            "post",
            f"{v1}/content",
            "/wiki/rest/api/content",
            200,
            json={"type": "page", "title": title, "space": {"key": "DEMO"}, "body": storage},
        )
        one = "/wiki/rest/api/content/{id}"
        _check(
            http,
            CONFLUENCE_V1,
            "get",
            f"{v1}/content/{made['id']}",
            one,
            200,
            params={"expand": "body.storage,ancestors,history"},
        )
        _check(
            http,
            CONFLUENCE_V1,
            "put",
            f"{v1}/content/{made['id']}",
            one,
            200,
            json={"type": "page", "title": title, "version": {"number": 2}, "body": storage},
        )
        _check(
            http, CONFLUENCE_V1, "get", f"{v1}/content/{made['id']}/history", one + "/history", 200
        )
        _check(
            http,
            CONFLUENCE_V1,
            "post",
            f"{v1}/content/{made['id']}/label",
            one + "/label",
            200,
            json=[{"prefix": "global", "name": "doc"}],
        )
        _check(
            http,
            CONFLUENCE_V1,
            "get",
            f"{v1}/content/{made['id']}/child/page",
            one + "/child/{type}",
            200,
        )
        _check(
            http,
            CONFLUENCE_V1,
            "get",
            f"{v1}/content",
            "/wiki/rest/api/content",
            200,
            params={"spaceKey": "DEMO", "title": title},
        )
        _check(
            http, CONFLUENCE_V1, "get", f"{v1}/space/DEMO", "/wiki/rest/api/space/{spaceKey}", 200
        )
        _check(
            http,
            CONFLUENCE_V1,
            "get",
            f"{v1}/content/search",
            "/wiki/rest/api/content/search",
            200,
            params={"cql": f'title ~ "{title}"'},
        )
        v2 = "/wiki/api/v2"
        spaces = _check(
            http, CONFLUENCE_V2, "get", f"{v2}/spaces", "/spaces", 200, params={"keys": "DEMO"}
        )
        space_id = spaces["results"][0]["id"]
        body2 = {"representation": "storage", "value": "<p>b</p>"}
        page = _check(
            http,
            CONFLUENCE_V2,
            "post",
            f"{v2}/pages",
            "/pages",
            200,
            json={"spaceId": space_id, "status": "current", "title": title + " v2", "body": body2},
        )
        _check(
            http,
            CONFLUENCE_V2,
            "get",
            f"{v2}/pages/{page['id']}",
            "/pages/{id}",
            200,
            params={"body-format": "storage"},
        )
        _check(
            http,
            CONFLUENCE_V2,
            "put",
            f"{v2}/pages/{page['id']}",
            "/pages/{id}",
            200,
            json={
                "id": page["id"],
                "status": "current",
                "title": page["title"],
                "body": body2,
                "version": {"number": 2},
            },
        )
        _check(
            http, CONFLUENCE_V2, "get", f"{v2}/pages", "/pages", 200, params={"space-id": space_id}
        )
