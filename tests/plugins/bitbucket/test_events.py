"""Webhook parsing against the real Cloud and Data Center captures in the shared contracts."""

from __future__ import annotations

import pytest

from plugins.bitbucket.events import EventKind, PayloadInvalid, parse_event
from tests.plugins.bitbucket.conftest import contract


def test_cloud_created_and_updated() -> None:
    created = parse_event("pullrequest:created", contract("bitbucket-cloud", "pullrequest_created"))
    assert created is not None and created.kind is EventKind.OPENED and created.flavour == "cloud"
    updated = parse_event("pullrequest:updated", contract("bitbucket-cloud", "pullrequest_updated"))
    assert updated is not None and updated.kind is EventKind.UPDATED
    assert updated.repo.full_name == "nfalco79/test-repos"
    assert (updated.pr_id, updated.source_branch, updated.target_branch) == (
        1,
        "release/release-1",
        "master",
    )
    assert updated.head_commit == "f945c96c71d0" and updated.base_commit == "174561d625c9"
    assert updated.draft is False and updated.state == "OPEN" and not updated.from_fork
    assert updated.author.id == "557058:ca1cd232-2017-4216-94be-99637899e18d"
    assert updated.review_key == "cloud:nfalco79/test-repos#1"


def test_cloud_comment_and_fulfilled() -> None:
    body = contract("bitbucket-cloud", "pullrequest_comment_created")
    event = parse_event("pullrequest:comment_created", body)
    assert event is not None and event.kind is EventKind.COMMENTED and event.comment is not None
    assert (event.comment.id, event.comment.text) == (311512047, "test comment")
    assert event.comment.author.id == "624de6f6fd5e450070486936" and event.comment.path is None
    body["comment"]["inline"] = {"path": "app.py", "from": None, "to": 3}
    inline = parse_event("pullrequest:comment_created", body)
    assert inline is not None and inline.comment is not None and inline.comment.path == "app.py"
    merged = parse_event(
        "pullrequest:fulfilled", contract("bitbucket-cloud", "pullrequest_fulfilled")
    )
    assert merged is not None and merged.kind is EventKind.MERGED
    assert merged.state == "MERGED" and merged.merge_commit == "4f8f6de9d0ff"


def test_dc_events() -> None:
    opened = parse_event("pr:opened", contract("bitbucket-dc", "pr_opened"))
    assert opened is not None and opened.flavour == "dc" and opened.kind is EventKind.OPENED
    assert opened.repo.owner == "PRJ" and opened.repo.slug == "my-repo"
    assert opened.source_branch == "develop" and len(opened.head_commit) == 40
    pushed = parse_event("pr:from_ref_updated", contract("bitbucket-dc", "pr_from_ref_updated"))
    assert pushed is not None and pushed.kind is EventKind.UPDATED
    assert pushed.previous_head == "caf52ccb18c039cd9b930ed1f7b3edfb34cb92dd"
    assert pushed.author.name == "jcitizen" and pushed.actor.display_name == "Jane Citizen"
    merged = parse_event("pr:merged", contract("bitbucket-dc", "pr_merged"))
    assert merged is not None and merged.merge_commit == "83f836ca538dc4f43d29fda46a5b85ea49f1b8e7"


def test_dc_event_key_from_body_and_iso_dates() -> None:
    body = contract("bitbucket-dc", "pr_opened--iso-dates-bbdc10")
    event = parse_event(None, body)  # DC repeats the key in the body
    assert event is not None and event.kind is EventKind.OPENED
    tag = parse_event("pr:opened", contract("bitbucket-dc", "pr_opened--from-tag-2025"))
    assert tag is not None and tag.draft is False and tag.source_branch == "v1.0"


def test_dc_comment_added_shape() -> None:
    body = contract("bitbucket-dc", "pr_opened")
    body["eventKey"] = "pr:comment:added"
    body["comment"] = {
        "id": 7,
        "text": "@dcoder-agent review",
        "author": {"name": "alice", "id": 3},
    }
    body["commentParentId"] = 5
    event = parse_event("pr:comment:added", body)
    assert event is not None and event.comment is not None
    assert (event.comment.id, event.comment.parent_id, event.comment.author.name) == (7, 5, "alice")


def test_other_events_are_not_ours_and_broken_bodies_say_what_is_missing() -> None:
    assert parse_event("repo:push", {"push": {}}) is None
    assert (
        parse_event("pullrequest:approved", contract("bitbucket-cloud", "pullrequest_created"))
        is None
    )
    with pytest.raises(PayloadInvalid, match="pullrequest"):
        parse_event("pullrequest:created", {"repository": {}})
    body = contract("bitbucket-cloud", "pullrequest_created")
    del body["pullrequest"]["source"]["commit"]
    with pytest.raises(PayloadInvalid, match="source.commit.hash"):
        parse_event("pullrequest:created", body)
    with pytest.raises(PayloadInvalid, match="not a JSON object"):
        parse_event("pr:opened", ["x"])


def test_the_pull_request_page_is_kept_for_links_from_other_tools() -> None:
    from plugins.bitbucket.outcome import PullRequestRef

    cloud = parse_event("pullrequest:created", contract("bitbucket-cloud", "pullrequest_created"))
    assert cloud is not None
    assert cloud.url == "https://bitbucket.org/amuniz/test-repos/pull-requests/735"
    dc = parse_event("pr:from_ref_updated", contract("bitbucket-dc", "pr_from_ref_updated"))
    assert dc is not None
    assert dc.url == "http://example.com:7990/projects/PRJ/repos/my-repo/pull-requests/2"
    # review.completed carries it, so the Jira agent can add its remote link
    assert PullRequestRef.of(cloud).url == cloud.url
    merged = parse_event("pr:merged", contract("bitbucket-dc", "pr_merged"))
    assert merged is not None and merged.url is None  # that capture has no links
