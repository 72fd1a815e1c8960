"""The Bitbucket review through the real service (Ray, NATS, PostgreSQL, the sandbox) and the
simulator over HTTP: a tenant installs the agent as a user would, the simulator's repository
webhook delivers Alice's pull request, the job fetches it over git HTTP with the instance's
credential, and the test polls the pull request (with deadlines) for what the agent wrote.

The simulator listens on a copy of the port the session reserved for simulators (the only
loopback port ``DCODER_EGRESS_ALLOW`` lets plugins reach); the OAuth tests use the same port
with their own copy. The repository, install and probe helpers are e2ekit.py's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.plugins.bitbucket.conftest import SimServer
from tests.plugins.bitbucket.e2ekit import (
    V2,
    inline_comments,
    open_pr,
    replay_posts_nothing,
    reviewed,
    summaries,
    wait,
)
from tests.serve_app.api_client import new_tenant


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_pull_request_reviewed_then_a_push_posts_one_and_resolves_one(
    serve_url: str, esim: SimServer, tmp_path: Path, flavour: str
) -> None:
    pr = open_pr(serve_url, esim, flavour, tmp_path)
    head = pr.head()
    wait("the review's summary", lambda: reviewed(pr, head), show=pr.state)
    inline = inline_comments(pr)
    lines = sorted((c.inline.path, c.inline.line) for c in inline if c.inline)
    assert lines == [("app.py", 7), ("app.py", 11)], [c.text[:60] for c in inline]
    [summary] = summaries(pr)
    assert "FAIL" in summary.text and "static analysis only" in summary.text
    # the report is put after the comments (a Code Insights outage must not hold them back)
    report = wait("the head's Code Insights report", lambda: pr.report(head), show=pr.state)
    assert report["result"] in ("FAILED", "FAIL"), report
    # a push fixing the injection and adding a second eval
    pr.push(V2)
    second = wait("a new head", lambda: (h := pr.head()) != head and h)
    wait("the second review", lambda: reviewed(pr, second), show=pr.state)
    after = inline_comments(pr)
    assert len(after) == 3, [c.text[:60] for c in after]  # one new, none twice
    by_line = {c.inline.line: c for c in after if c.inline}
    assert 15 in by_line and by_line[7].resolved and not by_line[11].resolved, by_line
    [edited] = summaries(pr)
    assert edited.id == summary.id and "1 fixed by this push" in edited.text
    report = wait("the new head's Code Insights report", lambda: pr.report(second), show=pr.state)
    assert report["result"] in ("PASSED", "PASS"), report
    replay_posts_nothing(pr)
    # another tenant sees neither the jobs nor the instance
    other = new_tenant(serve_url, "bbo")
    assert other.http.get(f"/v1/tenants/{other.id}/jobs").json() == []
    assert other.http.get(f"/v1/tenants/{pr.tenant.id}/jobs").status_code in (403, 404)
    assert other.http.get(f"/v1/tenants/{other.id}/plugins/{pr.iid}").status_code == 404


def test_two_quick_pushes_end_with_one_review_of_the_last_head_and_no_duplicates(
    serve_url: str, esim: SimServer, tmp_path: Path
) -> None:
    pr = open_pr(serve_url, esim, "cloud", tmp_path)
    first = pr.head()
    wait("the first review", lambda: reviewed(pr, first), show=pr.state)
    pr.push(V2)
    pr.push(V2 + '\n\ndef again(text):\n    return eval(text + "1")\n')
    last = wait("the last head", lambda: (h := pr.head()) != first and h)
    wait("the last head's review", lambda: reviewed(pr, last), show=pr.state)
    ended = ("done", "superseded", "cancelled", "failed")

    def jobs_ended() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = pr.tenant.http.get(f"/v1/tenants/{pr.tenant.id}/jobs").json()
        return rows if pr.settled() and all(j["status"] in ended for j in rows) else None

    # a superseded review's row turns final a moment after its task is cancelled
    jobs = wait("the jobs to end", jobs_ended, show=pr.state)
    inline = inline_comments(pr)
    tags = [c.text.rsplit("dcoder:", 1)[-1] for c in inline]
    assert len(tags) == len(set(tags)) == 4, [c.text[:60] for c in inline]  # 2 + 1 + 1, once each
    assert len(summaries(pr)) == 1
    # the second push's review is superseded when it was still running (usually), never failed
    assert all(j["status"] != "failed" for j in jobs), jobs


def _fault(sim: SimServer, **rule: Any) -> None:
    made = httpx.post(f"{sim.url}/_sim/faults", json=rule, timeout=10)
    assert made.status_code == 201, made.text


def test_bitbucket_429_is_waited_out_and_5xx_dead_letters_the_review_with_its_reason(
    serve_url: str, esim: SimServer, tmp_path: Path
) -> None:
    pr = open_pr(serve_url, esim, "cloud", tmp_path)
    api = f"/bitbucket/2.0/repositories/{pr.repo.full_name}"
    # (set while the job fetches and analyses: it takes seconds before anything is posted)
    _fault(esim, path_prefix=f"{api}/pullrequests/{pr.pr_id}/comments", method="POST",
           kind="rate_limit", retry_after_s=1, count=2)  # fmt: skip
    _fault(esim, path_prefix=f"{api}/commit/", method="PUT", kind="server_error", status=503,
           count=None)  # fmt: skip
    try:
        head = pr.head()
        wait("the review's summary", lambda: reviewed(pr, head), show=pr.state)

        def dead() -> list[dict[str, Any]]:
            rows = pr.tenant.http.get(f"/v1/tenants/{pr.tenant.id}/deliveries").json()
            return [r for r in rows if r["event_key"] == "job.completed" and r["status"] == "dead"]

        [row] = wait("the review's delivery dead-lettered", dead, show=pr.state)
        assert "503" in row["last_error"] and "reports/dcoder-review" in row["last_error"], row
        rules = httpx.get(f"{esim.url}/_sim/faults", timeout=10).json()
        assert [r["kind"] for r in rules] == ["server_error"]  # both 429s were hit, then waited out
        # every attempt re-ran the review's steps: each comment is still there once
        inline = inline_comments(pr)
        assert sorted(c.inline.line for c in inline if c.inline) == [7, 11]
        assert len(summaries(pr)) == 1 and pr.report(head) is None
    finally:
        httpx.delete(f"{esim.url}/_sim/faults", timeout=10)
