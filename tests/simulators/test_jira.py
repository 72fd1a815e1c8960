"""Jira simulator through the unmodified ``jira`` SDK, plus v3/ADF and auth over raw HTTP."""

from __future__ import annotations

import uuid

import httpx
import jira
import pytest

from tests.simulators.conftest import SimServer


@pytest.fixture(scope="module")
def client(sim: SimServer) -> jira.JIRA:
    """The official SDK with the demo API token."""
    return jira.JIRA(
        server=sim.url + "/jira", basic_auth=(sim.config.user_email, sim.config.api_token)
    )


def _project(sim: SimServer) -> str:
    key = "P" + uuid.uuid4().hex[:5].upper()
    sim.mounted("/jira").state.jira.add_project(key, "Test " + key)
    return key


def test_sdk_create_get_search_comment_update_story_points(
    sim: SimServer, client: jira.JIRA
) -> None:
    key = _project(sim)
    points = next(f["id"] for f in client.fields() if f["name"] == "Story Points")
    assert points.startswith("customfield_")
    issue = client.create_issue(project=key, summary="Add login", issuetype={"name": "Story"})
    issue.update(fields={points: 5})  # PUT issue.self -> 204, then the SDK re-reads it
    assert getattr(issue.fields, points) == 5.0
    me = client.myself()["accountId"]
    comment = client.add_comment(issue.key, f"Please estimate [~accountid:{me}]")
    assert client.comment(issue.key, comment.id).body.endswith(f"[~accountid:{me}]")
    client.create_issue(project=key, summary="No estimate", issuetype={"name": "Story"})
    client.transition_issue(issue, "31")
    found = client.search_issues(
        f"project = {key} AND statusCategory = Done AND resolved is not EMPTY "
        f'AND "Story Points" is not EMPTY ORDER BY created DESC'
    )
    assert [i.key for i in found] == [issue.key]
    assert client.issue(issue.key, fields="status").fields.status.name == "Done"
    assert len(client.search_issues(f"project = {key}", maxResults=1)) == 1


def test_story_point_field_id_differs_between_instances() -> None:
    from simulators.config import SimulatorConfig
    from simulators.jira.state import JiraState

    ids = {JiraState(SimulatorConfig.model_validate({})).story_points_id for _ in range(5)}
    assert len(ids) > 1


def test_board_estimation_and_labels(sim: SimServer, client: jira.JIRA) -> None:
    key = _project(sim)
    issue = client.create_issue(project=key, summary="x", issuetype={"name": "Story"}, labels=["a"])
    board = next(b for b in client.boards() if b.name == f"{key} board")
    with sim.client() as http:
        config = http.get(f"/jira/rest/agile/1.0/board/{board.id}/configuration").json()
        field = config["estimation"]["field"]["fieldId"]
        put = http.put(
            f"/jira/rest/agile/1.0/issue/{issue.key}/estimation",
            params={"boardId": board.id},
            json={"value": "8.0"},
        )
        assert put.status_code == 200 and put.json()["value"] == 8.0
    issue.update(update={"labels": [{"add": "b"}, {"remove": "a"}]})
    again = client.issue(issue.key)
    assert getattr(again.fields, field) == 8.0 and again.fields.labels == ["b"]


def test_v3_comment_is_adf_and_mentions_round_trip(sim: SimServer) -> None:
    key = _project(sim)
    with sim.client() as http:
        created = http.post(
            "/jira/rest/api/3/issue",
            json={
                "fields": {"project": {"key": key}, "summary": "adf", "issuetype": {"name": "Task"}}
            },
        ).json()
        me = http.get("/jira/rest/api/3/myself").json()["accountId"]
        adf = {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "text", "text": "ping "},
                        {"type": "mention", "attrs": {"id": me}},
                    ],
                }
            ],
        }
        assert (
            http.post(
                f"/jira/rest/api/3/issue/{created['key']}/comment", json={"body": "plain"}
            ).status_code
            == 400
        )
        posted = http.post(f"/jira/rest/api/3/issue/{created['key']}/comment", json={"body": adf})
        assert posted.status_code == 201 and posted.json()["body"] == adf
        v2 = http.get(f"/jira/rest/api/2/issue/{created['key']}/comment").json()
        assert v2["comments"][0]["body"] == f"ping [~accountid:{me}]"


def test_auth_basic_wrong_token_and_oauth_bearer_with_refresh(sim: SimServer) -> None:
    base = sim.url
    assert (
        httpx.get(f"{base}/jira/rest/api/2/myself", auth=("demo@example.com", "x")).status_code
        == 401
    )
    creds = {
        "client_id": sim.config.oauth_client_id,
        "client_secret": sim.config.oauth_client_secret,
    }
    token = httpx.post(f"{base}/oauth/token", json={**creds, "grant_type": "client_credentials"})
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert httpx.get(f"{base}/jira/rest/api/3/myself", headers=bearer).status_code == 200


def test_bad_jql_is_a_400_with_error_messages(sim: SimServer) -> None:
    with sim.client() as http:
        answer = http.get("/jira/rest/api/2/search", params={"jql": 'project = = "x'})
    assert answer.status_code == 400 and answer.json()["errorMessages"]


def test_jql_relative_dates_and_date_functions(sim: SimServer) -> None:
    key = _project(sim)
    state = sim.mounted("/jira").state.jira
    old = state.create_issue(state.projects[key], {"summary": "old"})
    old.fields["created"] = "2020-01-15T10:00:00.000+0000"
    new = state.create_issue(state.projects[key], {"summary": "new"})

    def keys(jql: str) -> list[str]:
        with sim.client() as http:
            answer = http.get(
                "/jira/rest/api/2/search", params={"jql": f"project = {key} AND {jql}"}
            )
        assert answer.status_code == 200, answer.text
        return sorted(i["key"] for i in answer.json()["issues"])

    assert keys("created >= -30d") == [new.key]
    assert keys("created < -30d") == [old.key]
    assert keys('created > "-4w 2d"') == [new.key]
    assert keys("created >= startOfDay()") == [new.key]
    assert keys('created <= endOfDay("+1d") AND created > startOfMonth(-1)') == [new.key]
    assert keys("created < 2020-02-01 AND created >= '2020/01/15 10:00'") == [old.key]
    assert keys("created < startOfYear(-6)") == []
    assert keys("created <= now()") == sorted([old.key, new.key])


def test_jql_bad_date_is_a_400_in_jiras_shape(sim: SimServer) -> None:
    for jql in ("created > -30x", "created > yesterday", "created > startOfFortnight()"):
        with sim.client() as http:
            answer = http.get("/jira/rest/api/2/search", params={"jql": jql})
        assert answer.status_code == 400, jql
        body = answer.json()
        assert body["errors"] == {} and body["errorMessages"], body
    assert "period format e.g. '-5d'" in answer_text(sim, "created > -30x")


def answer_text(sim: SimServer, jql: str) -> str:
    with sim.client() as http:
        return str(http.get("/jira/rest/api/2/search", params={"jql": jql}).json()["errorMessages"])


def test_jql_date_arithmetic_at_a_fixed_moment() -> None:
    from datetime import UTC, datetime

    from simulators.jira import jqldates

    now = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)  # a Tuesday
    assert jqldates.parse_value("-1M", "created", now) == datetime(2026, 2, 28, 15, 30, tzinfo=UTC)
    assert jqldates.parse_value("-4w 2d", "created", now) == datetime(
        2026, 3, 1, 15, 30, tzinfo=UTC
    )
    assert jqldates.parse_value("2h", "created", now) == datetime(2026, 3, 31, 17, 30, tzinfo=UTC)
    assert jqldates.call("startOfWeek", [], now) == datetime(2026, 3, 29, tzinfo=UTC)
    assert jqldates.call("startOfMonth", ["-1"], now) == datetime(2026, 2, 1, tzinfo=UTC)
    end = jqldates.call("endOfMonth", [], now)
    assert end == datetime(2026, 3, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert jqldates.call("startOfYear", ["+1"], now) == datetime(2027, 1, 1, tzinfo=UTC)
