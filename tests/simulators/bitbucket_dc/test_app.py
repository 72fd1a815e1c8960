"""Bitbucket DC simulator over real HTTP: SDK, inline comments, insights, git, webhooks, dates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from atlassian import Bitbucket

from core.settings import load_settings
from core.signing import verify_hub_signature
from simulators.bitbucket_dc.app import create_app
from simulators.config import SimulatorConfig
from simulators.webhooks_out import RetryPolicy, WebhookSender
from tests.simulators.bitbucket_cloud.conftest import git, write
from tests.simulators.bitbucket_cloud.live import LiveServer, Receiver

SECRET = "dc-secret"
EVENTS = ["pr:opened", "pr:from_ref_updated", "pr:merged", "pr:comment:added"]


class Dc:
    """Running DC simulator with receiver and a work tree pushed to ``PRJ/web``."""

    def __init__(self, url: str, sender: WebhookSender, receiver: Receiver, work: Path) -> None:
        self.url, self.sender, self.receiver, self.work = url, sender, receiver, work
        self.auth = ("demo@example.com", "demo-token")

    def client(self) -> httpx.Client:
        """httpx client with basic auth."""
        return httpx.Client(base_url=self.url, auth=self.auth, timeout=10)

    def events(self, key: str) -> list[dict[str, Any]]:
        """Verified payloads received for one event key."""
        self.sender.wait_settled(10)
        found = []
        for got in self.receiver.requests:
            if got.headers["x-event-key"] == key:
                assert verify_hub_signature([SECRET], got.body, got.headers["x-hub-signature"])
                found.append(json.loads(got.body))
        return found


@pytest.fixture(scope="module")
def dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dc]:
    """DC simulator (ISO dates), receiver, repo with main + feature pushed over smart HTTP."""
    receiver, data = Receiver(), tmp_path_factory.mktemp("bb-dc")
    sender = WebhookSender(RetryPolicy(max_attempts=2, backoff_s=0.01))
    with LiveServer(lambda _: receiver.app()) as rec:

        def make(url: str) -> Any:
            return create_app(SimulatorConfig(base_url=url, data_dir=data), sender, "iso")

        with LiveServer(make) as server:
            work = tmp_path_factory.mktemp("dc-work")
            env = Dc(server.url, sender, receiver, work)
            with env.client() as client:
                assert (
                    client.post(
                        "/rest/api/1.0/projects/PRJ/repos", json={"name": "web"}
                    ).status_code
                    == 201
                )
                hook = {
                    "name": "t",
                    "url": rec.url + "/dc",
                    "events": EVENTS,
                    "configuration": {"secret": SECRET},
                }
                assert (
                    client.post(
                        "/rest/api/1.0/projects/PRJ/repos/web/webhooks", json=hook
                    ).status_code
                    == 201
                )
            remote = (
                server.url.replace("http://", "http://demo%40example.com:demo-token@")
                + "/scm/PRJ/web.git"
            )
            git(work, "init", "-q", "-b", "main")
            write(work, {"src/a.py": "a = 1\nb = 2\n"})
            git(work, "add", "-A")
            git(work, "commit", "-qm", "init")
            git(work, "remote", "add", "origin", remote)
            git(work, "push", "-q", "origin", "main")
            git(work, "checkout", "-qb", "feature")
            write(work, {"src/a.py": "a = 1\nb = 3\nc = 4\n"})
            git(work, "commit", "-qam", "change b")
            git(work, "push", "-q", "origin", "feature")
            yield env


def test_pull_request_via_sdk_and_webhooks(dc: Dc) -> None:
    with dc.client() as client:
        body = {
            "title": "Change b",
            "description": "d",
            "fromRef": {"id": "refs/heads/feature"},
            "toRef": {"id": "refs/heads/main"},
        }
        assert (
            client.post("/rest/api/1.0/projects/PRJ/repos/web/pull-requests", json=body).status_code
            == 201
        )
    sdk = Bitbucket(url=dc.url, username=dc.auth[0], password=dc.auth[1])
    pr = sdk.get_pull_request("PRJ", "web", 1)
    assert pr["fromRef"]["latestCommit"] == git(dc.work, "rev-parse", "feature").strip()
    assert isinstance(pr["createdDate"], str) and "T" in pr["createdDate"]  # ISO style chosen
    changes = list(sdk.get_pull_requests_changes("PRJ", "web", 1))
    assert [(c["type"], c["path"]["toString"]) for c in changes] == [("MODIFY", "src/a.py")]
    sdk.add_pull_request_comment("PRJ", "web", 1, "general remark")

    [opened] = dc.events("pr:opened")
    sample_file = load_settings().contracts_dir / "webhooks/bitbucket-dc/pr_opened.json"
    if not sample_file.is_file():
        pytest.skip(f"shared contracts not present at {sample_file}")
    sample = json.loads(sample_file.read_text())
    assert set(opened) == set(sample)
    assert set(sample["pullRequest"]) <= set(opened["pullRequest"])
    [added] = dc.events("pr:comment:added")
    assert added["comment"]["text"] == "general remark"


def test_inline_comment_diff_and_insights(dc: Dc) -> None:
    head = git(dc.work, "rev-parse", "feature").strip()
    with dc.client() as client:
        base = "/rest/api/1.0/projects/PRJ/repos/web/pull-requests/1"
        anchor = {
            "path": "src/a.py",
            "line": 2,
            "lineType": "ADDED",
            "fileType": "TO",
            "diffType": "EFFECTIVE",
        }
        made = client.post(base + "/comments", json={"text": "why 3?", "anchor": anchor})
        assert made.status_code == 201 and made.json()["anchor"] == anchor
        assert (
            client.post(base + "/comments", json={"text": "x", "anchor": {"line": 1}}).status_code
            == 400
        )
        text = client.get(base + ".diff").text
        assert text == git(dc.work, "diff", "main...feature")
        [file_diff] = client.get(base + "/diff").json()["diffs"]
        kinds = [seg["type"] for seg in file_diff["hunks"][0]["segments"]]
        assert kinds == ["CONTEXT", "REMOVED", "ADDED"]

        insights = f"/rest/insights/1.0/projects/PRJ/repos/web/commits/{head}/reports/dcoder"
        assert client.put(insights, json={"title": "Review", "result": "FAIL"}).status_code == 200
        notes = {
            "annotations": [
                {"path": "src/a.py", "line": 2, "message": "m", "severity": "HIGH", "type": "BUG"}
            ]
        }
        assert client.post(insights + "/annotations", json=notes).status_code == 204
        assert client.get(insights + "/annotations").json()["totalCount"] == 1


def test_push_updates_the_pr_and_merge(dc: Dc) -> None:
    previous = git(dc.work, "rev-parse", "feature").strip()
    write(dc.work, {"src/b.py": "x = 1\n"})
    git(dc.work, "add", "-A")
    git(dc.work, "commit", "-qm", "more")
    git(dc.work, "push", "-q", "origin", "feature")
    [updated] = dc.events("pr:from_ref_updated")
    assert updated["previousFromHash"] == previous
    with dc.client() as client:
        url = "/rest/api/1.0/projects/PRJ/repos/web/pull-requests/1/merge"
        assert client.post(url, params={"version": 0}).status_code == 409  # stale version
        merged = client.post(url, params={"version": 1})
        assert merged.status_code == 200 and merged.json()["state"] == "MERGED"
    [event] = dc.events("pr:merged")
    assert event["pullRequest"]["properties"]["mergeCommit"]["id"]
