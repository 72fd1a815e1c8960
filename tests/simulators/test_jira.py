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
