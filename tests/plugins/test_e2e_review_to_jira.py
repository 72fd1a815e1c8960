"""The Bitbucket and Jira agents together through the real service (Ray, NATS, PostgreSQL, the
sandbox) and the combined simulator: one tenant with a Jira site and a Bitbucket workspace (Cloud
with Cloud, Data Center with Data Center), each installed as the agents' guides say with the
agent accounts; Alice's pull request names SHOP-12 in its branch, title and first commit (which
also names OPS-7, a project the Jira instance does not cover).

What the user sees on SHOP-12 (docs/agents/jira.md, ``plugins/jira/linked.py``): one comment by
the agent per review (pull request and head), and one remote link to the pull request, updated
by each review, never a second one; a replayed Bitbucket webhook reviews nothing again, so Jira
gets nothing new. The helpers are the two agents' e2e kits (tests/plugins/*/e2ekit.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulators.jira.state import JiraState
from tests.plugins.bitbucket.conftest import SimServer, esim
from tests.plugins.bitbucket.e2ekit import (
    V2,
    open_pr,
    replay_posts_nothing,
    reviewed,
    wait,
)
from tests.plugins.jira import sitekit as kit
from tests.plugins.jira.e2ekit import Agent, Sim, answers, install
from tests.serve_app.api_client import new_tenant

__all__ = ["esim"]  # the Bitbucket tests' simulator fixture (one per module), used here

PROJECT = "SHOP"


def _shop_12(state: JiraState) -> str:
    """Project SHOP with eleven stories before SHOP-12, the story Alice's branch names."""
    if state.project(PROJECT) is None:
        found = state.add_project(PROJECT, "Shop")
        for n in range(1, 12):
            state.create_issue(found, {"summary": f"Earlier story {n}"})
        kit.story(state, PROJECT)
    return f"{PROJECT}-12"


def _review_deliveries(agent: Agent) -> list[dict[str, Any]]:
    rows = agent.tenant.http.get(f"/v1/tenants/{agent.tenant.id}/deliveries").json()
    return [
        r for r in rows if r["instance_id"] == agent.id and r["event_key"] == "review.completed"
    ]


def _links(state: JiraState, key: str) -> list[dict[str, Any]]:
    issue = state.issue(key)
    assert issue is not None
    return list(issue.remote_links)


def _told(site: Sim, agent: Agent, key: str, count: int) -> list[Any]:
    """Wait for ``count`` comments of the agent on ``key`` (and their deliveries done)."""

    def probe() -> list[Any] | None:
        found = answers(site, agent, key)
        rows = _review_deliveries(agent)
        ended = len(rows) == count and all(r["status"] == "done" for r in rows)
        return found if len(found) >= count and ended else None

    return list(wait(f"{count} review comments on {key}", probe, show=lambda: agent.state()))


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_a_review_is_told_on_the_linked_jira_issue_once_per_head_with_one_link(
    serve_url: str, esim: SimServer, tmp_path: Path, flavour: str
) -> None:
    mount = "/jira" if flavour == "cloud" else "/jira-dc"
    site = Sim(esim.url, esim.config, esim.app)
    state = site.state(mount)
    key = _shop_12(state)
    tenant = new_tenant(serve_url, "bbj")
    agent = install(serve_url, site, tenant, mount=mount, project=PROJECT)
    pr = open_pr(serve_url, esim, flavour, tmp_path, tenant=tenant)
    url, head = pr.url(), pr.head()
    assert url, "the pull request has a page to link to"
    wait("the review", lambda: reviewed(pr, head), show=pr.state)
    [first] = _told(site, agent, key, 1)
    issue = state.issue(key)
    assert issue is not None and len(issue.comments) == 1  # nobody else wrote on SHOP-12
    # ADF on Cloud, wiki markup on Data Center; the simulator shows both as wiki text
    assert (first.adf is not None) == (flavour == "cloud")
    assert first.body.startswith("*dcoder review*: "), first.body
    assert f"Pull request #{pr.pr_id}" in first.body and pr.repo.full_name in first.body
    assert f"at {head[:12]}: FAIL" in first.body and url in first.body, first.body
    assert "static analysis only" in first.body
    [link] = _links(state, key)
    assert link["object"]["url"] == url and link["relationship"] == "reviewed in", link
    assert link["object"]["summary"].startswith("review FAIL"), link
    assert state.issue("OPS-7") is None  # named by a commit, not a project of this instance
    # a push: a new review, a second comment (one per head), the same link updated in place
    pr.push(V2)
    second = wait("a new head", lambda: (h := pr.head()) != head and h)
    wait("the second review", lambda: reviewed(pr, second), show=pr.state)
    before, then = _told(site, agent, key, 2)
    assert (before.id, before.body) == (first.id, first.body)  # never edited
    assert f"at {second[:12]}: PASS" in then.body and url in then.body, then.body
    assert "fixed 1" in then.body, then.body
    [link] = _links(state, key)
    assert link["object"]["url"] == url and link["object"]["summary"].startswith("review PASS")
    # the pull request's webhooks replayed (same and new ids): no review, nothing new on Jira
    replay_posts_nothing(pr)
    assert [(c.id, c.body) for c in answers(site, agent, key)] == [
        (before.id, before.body),
        (then.id, then.body),
    ]
    assert len(_links(state, key)) == 1 and len(_review_deliveries(agent)) == 2
