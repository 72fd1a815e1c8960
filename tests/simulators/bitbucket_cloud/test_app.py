"""Bitbucket Cloud simulator over real HTTP: SDK, raw calls, git, webhooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from atlassian.bitbucket import Cloud as CloudSdk

from core.settings import load_settings
from core.signing import verify_hub_signature
from tests.simulators.bitbucket_cloud.conftest import WS, Cloud, git, write

HOOK_SECRET = "hook-s3cret"
EVENTS = [
    "pullrequest:created",
    "pullrequest:updated",
    "pullrequest:fulfilled",
    "pullrequest:comment_created",
]


def _sdk(cloud: Cloud) -> CloudSdk:
    return CloudSdk(
        url=cloud.url, username=cloud.config.user_email, password=cloud.config.api_token
    )


def _subscribe(cloud: Cloud) -> None:
    with cloud.client() as client:
        hooks = client.get(f"/repositories/{WS}/shop/hooks").json()["values"]
        if not hooks:
            body = {
                "url": cloud.receiver_url + "/bb",
                "events": EVENTS,
                "secret": HOOK_SECRET,
                "description": "test",
                "active": True,
            }
            created = client.post(f"/repositories/{WS}/shop/hooks", json=body)
            assert created.status_code == 201 and created.json()["secret_set"] is True


def _events(cloud: Cloud, key: str) -> list[dict[str, Any]]:
    cloud.sender.wait_settled(10)
    found = []
    for got in cloud.receiver.requests:
        if got.headers["x-event-key"] == key:
            assert verify_hub_signature([HOOK_SECRET], got.body, got.headers["x-hub-signature"])
            found.append(json.loads(got.body))
    return found


def test_sdk_pull_request_flow(cloud: Cloud, pushed: Path) -> None:
    _subscribe(cloud)
    repo = _sdk(cloud).repositories.get(WS, "shop")
    assert repo.get_link("self") == f"{cloud.url}/2.0/repositories/{WS}/shop"
    pr = repo.pullrequests.create("Feature X", "feature/x", "main", "Does X")
    assert pr.is_open and pr.source_branch == "feature/x" and pr.destination_branch == "main"
    assert pr.source_commit == git(pushed, "rev-parse", "feature/x").strip()
    same = repo.pullrequests.get(pr.id)
    assert same.title == "Feature X" and same.get_link("self").startswith(cloud.url)

    stats = {(d.data["status"], (d.data["new"] or d.data["old"])["path"]) for d in same.diffstat()}
    assert stats == {("modified", "app.py"), ("added", "new.py"), ("removed", "old.txt")}
    assert same.diff() == git(pushed, "diff", "main...feature/x")  # the real git diff

    same.comment("Looks fine")
    assert [c.raw for c in same.comments()] == ["Looks fine"]
    same.approve()
    assert any(p["approved"] for p in repo.pullrequests.get(pr.id).data["participants"])

    [created] = _events(cloud, "pullrequest:created")
    assert set(created) == {"actor", "pullrequest", "repository"}
    assert created["pullrequest"]["id"] == pr.id
    [commented] = _events(cloud, "pullrequest:comment_created")
    assert set(commented) == {"actor", "comment", "pullrequest", "repository"}


def test_payload_top_level_keys_match_the_real_samples(cloud: Cloud, pushed: Path) -> None:
    samples = load_settings().contracts_dir / "webhooks" / "bitbucket-cloud"
    if not samples.is_dir():
        pytest.skip(f"shared contracts not present at {samples}")
    got = {e: _events(cloud, f"pullrequest:{e}") for e in ("created", "comment_created")}
    for event, payloads in got.items():
        sample = json.loads((samples / f"pullrequest_{event}.json").read_text())
        assert payloads and set(payloads[0]) == set(sample)
        pr, real_pr = payloads[0]["pullrequest"], sample["pullrequest"]
        missing = set(real_pr) - set(pr) - {"queued", "properties"}  # features we don't model
        assert not missing, missing


def test_inline_comments_and_replies_over_raw_http(cloud: Cloud, pushed: Path) -> None:
    with cloud.client() as client:
        base = f"/repositories/{WS}/shop/pullrequests/1/comments"
        body = {"content": {"raw": "off by one?"}, "inline": {"path": "app.py", "to": 2}}
        made = client.post(base, json=body)
        assert made.status_code == 201
        comment = made.json()
        assert comment["type"] == "pullrequest_comment"
        assert comment["inline"] == {"path": "app.py", "from": None, "to": 2}
        reply = client.post(base, json={"content": {"raw": "no"}, "parent": {"id": comment["id"]}})
        assert reply.json()["parent"]["id"] == comment["id"]
        bad = client.post(base, json={"content": {"raw": "x"}, "inline": {"to": 2}})
        assert bad.status_code == 400 and bad.json()["type"] == "error"
        assert client.get(comment["links"]["self"]["href"]).json()["id"] == comment["id"]


def test_code_insights_report_and_annotations(cloud: Cloud, pushed: Path) -> None:
    head = git(pushed, "rev-parse", "feature/x").strip()
    report = {
        "title": "Semgrep",
        "report_type": "SECURITY",
        "result": "FAILED",
        "reporter": "dcoder",
        "data": [{"title": "Findings", "type": "NUMBER", "value": 2}],
    }
    annotations = [
        {
            "external_id": f"a{i}",
            "annotation_type": "VULNERABILITY",
            "summary": "hardcoded key",
            "severity": "HIGH",
            "path": "app.py",
            "line": i,
            "result": "FAILED",
        }
        for i in (1, 2)
    ]
    with cloud.client() as client:
        base = f"/repositories/{WS}/shop/commit/{head[:12]}/reports/dcoder-review"
        put = client.put(base, json=report)
        assert put.status_code == 200 and put.json()["commit_hash"] == head
        posted = client.post(base + "/annotations", json=annotations)
        assert [a["external_id"] for a in posted.json()] == ["a1", "a2"]
        listed = client.get(base + "/annotations").json()
        assert listed["size"] == 2 and listed["values"][0]["type"] == "report_annotation"
        assert client.put(base, json=report | {"report_type": "NOPE"}).status_code == 400
        assert client.delete(base + "/annotations/a1").status_code == 204
        assert client.get(base + "/annotations").json()["size"] == 1
        assert client.get(base).json()["title"] == "Semgrep"


def test_clone_pr_branch_and_push_updates_the_pr(
    cloud: Cloud, pushed: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--branch", "feature/x", cloud.git_url("shop"), str(clone))
    assert (clone / "new.py").read_text() == "X = 1\n"
    write(clone, {"later.py": "Y = 2\n"})
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "more")
    git(clone, "push", "-q", "origin", "feature/x")
    head = git(clone, "rev-parse", "HEAD").strip()
    with cloud.client() as client:
        pr = client.get(f"/repositories/{WS}/shop/pullrequests/1").json()
    assert pr["source"]["commit"]["hash"] == head
    updated = _events(cloud, "pullrequest:updated")
    assert updated and updated[-1]["pullrequest"]["source"]["commit"]["hash"] == head


def test_merge_fulfils_the_pr_with_a_real_merge_commit(cloud: Cloud, pushed: Path) -> None:
    with cloud.client() as client:
        merged = client.post(f"/repositories/{WS}/shop/pullrequests/1/merge", json={})
        assert merged.status_code == 200, merged.text
        body = merged.json()
        assert body["state"] == "MERGED"
        branches = client.get(f"/repositories/{WS}/shop/refs/branches").json()["values"]
        main = next(b for b in branches if b["name"] == "main")
        assert main["target"]["hash"] == body["merge_commit"]["hash"]
        commit = client.get(f"/repositories/{WS}/shop/commit/{main['target']['hash']}").json()
        assert len(commit["parents"]) == 2
    [fulfilled] = _events(cloud, "pullrequest:fulfilled")
    assert fulfilled["pullrequest"]["state"] == "MERGED"


def test_errors_and_auth(cloud: Cloud, pushed: Path) -> None:
    with cloud.client() as client:
        missing = client.get(f"/repositories/{WS}/nope")
        assert missing.status_code == 404 and missing.json()["error"]["message"]
        redirect = client.get(
            f"/repositories/{WS}/shop/pullrequests/1/diffstat", follow_redirects=False
        )
        assert redirect.status_code == 302
        assert redirect.headers["location"].startswith(
            f"{cloud.url}/2.0/repositories/{WS}/shop/diffstat/"
        )
    anonymous = CloudSdk(url=cloud.url)
    assert anonymous._session.get(f"{cloud.url}/2.0/repositories/{WS}/shop").status_code == 401
