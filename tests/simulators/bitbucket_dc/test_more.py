"""DC simulator: comment edits with versions, resolution, authors, raw files, commits, activities,
application properties, whoami and deleting an Insights report."""

from __future__ import annotations

import httpx

from tests.plugins.bitbucket.repos import REVIEW_YAML, account, dc_pr
from tests.simulators.conftest import SimServer


def _as(sim: SimServer, username: str) -> httpx.Client:
    pat = account(sim, username).pat
    return httpx.Client(
        base_url=sim.url + "/bitbucket-dc", headers={"Authorization": f"Bearer {pat}"}, timeout=10
    )


def test_comment_versions_states_and_authors(sim: SimServer) -> None:
    made = dc_pr(sim)
    repo = f"/rest/api/1.0/projects/{made.repo.owner}/repos/{made.repo.slug}"
    pr = f"{repo}/pull-requests/{made.pr_id}"
    with _as(sim, "dcoder-agent") as http:
        made_comment = http.post(f"{pr}/comments", json={"text": "v0"}).json()
        assert made_comment["author"]["name"] == "dcoder-agent" and made_comment["state"] == "OPEN"
        cid = made_comment["id"]
        edited = http.put(f"{pr}/comments/{cid}", json={"text": "v1", "version": 0})
        assert edited.status_code == 200 and edited.json()["version"] == 1
        stale = http.put(f"{pr}/comments/{cid}", json={"text": "v2", "version": 0})
        assert stale.status_code == 409 and "out-of-date" in stale.json()["errors"][0]["message"]
        resolved = http.put(f"{pr}/comments/{cid}", json={"state": "RESOLVED", "version": 1}).json()
        assert (
            resolved["state"] == "RESOLVED"
            and resolved["threadResolved"]
            and resolved["text"] == "v1"
        )
        reply = http.post(f"{pr}/comments", json={"text": "r", "parent": {"id": cid}}).json()
        bad = http.put(f"{pr}/comments/{reply['id']}", json={"state": "RESOLVED", "version": 0})
        assert bad.status_code == 400
        assert (
            http.put(f"{pr}/comments/{cid}", json={"state": "DONE", "version": 2}).status_code
            == 400
        )
        activities = http.get(f"{pr}/activities").json()["values"]
        assert [a["comment"]["id"] for a in activities] == [reply["id"], cid]
        assert http.get(f"{pr}/commits").json()["values"][0]["message"].startswith("OPS-7")
        assert http.get(pr).json()["author"]["user"]["name"] == "alice"


def test_server_identity_raw_files_and_report_delete(sim: SimServer) -> None:
    made = dc_pr(sim)
    repo = f"/rest/api/1.0/projects/{made.repo.owner}/repos/{made.repo.slug}"
    with _as(sim, "dcoder-agent") as http:
        props = http.get("/rest/api/1.0/application-properties").json()
        assert props["displayName"] == "Bitbucket" and props["version"]
        assert http.get("/plugins/servlet/applinks/whoami").text == "dcoder-agent"
        raw = http.get(f"{repo}/raw/.dcoder/review.yaml", params={"at": "refs/heads/main"})
        assert raw.content == REVIEW_YAML.encode()
        assert http.get(f"{repo}/raw/.dcoder/review.yaml", params={"at": made.branch}).text == (
            "max_comments: 0\n"
        )
        assert http.get(f"{repo}/raw/nope", params={"at": "main"}).status_code == 404
        head = http.get(f"{repo}/pull-requests/{made.pr_id}").json()["fromRef"]["latestCommit"]
        report = (
            f"/rest/insights/1.0/projects/{made.repo.owner}/repos/{made.repo.slug}"
            f"/commits/{head}/reports/r1"
        )
        assert http.put(report, json={"title": "t", "result": "PASS"}).status_code == 200
        assert http.delete(report).status_code == 204
        assert http.get(report).status_code == 404 and http.delete(report).status_code == 404
    with httpx.Client(base_url=sim.url + "/bitbucket-dc", timeout=10) as anonymous:
        assert anonymous.get("/plugins/servlet/applinks/whoami").status_code == 401
