"""A hostile pull request and the analyzer switches through the whole service (Ray, NATS,
PostgreSQL, the sandbox, the simulator's git over HTTP), beyond the SDK harness's versions in
test_plugin_review.py: what a Ray worker on a sandbox node does with a pull request that attacks
it, what the base branch's ``.dcoder/review.yaml`` switches off, and a report too large for the
job's result (and its ``job.completed`` event on NATS).

The simulator (``esim``, conftest) and the helpers are e2ekit.py's; one flavour each (the
harness runs both): the review path is the same, only the client differs.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.plugins.bitbucket.conftest import SimServer
from tests.plugins.bitbucket.e2ekit import (
    BASE,
    Pr,
    inline_comments,
    open_pr,
    reviewed,
    summaries,
    wait,
)
from tests.plugins.bitbucket.repos import MAIN, hostile


def _jobs(pr: Pr) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = pr.tenant.http.get(f"/v1/tenants/{pr.tenant.id}/jobs").json()
    return jobs


def _bomb(ran: Path) -> str:
    """A fork bomb whose first act leaves a trace: ``ran`` exists if anything ever ran it."""
    trace = f"pathlib.Path({str(ran)!r}).mkdir(parents=True)\n"
    return f"import os\nimport pathlib\n\n{trace}while True:\n    os.fork()\n"


def test_a_hostile_pull_request_is_contained_by_the_service(
    serve_url: str, esim: SimServer, tmp_path: Path
) -> None:
    marker = f"HOST-SECRET-{uuid.uuid4().hex}"
    host = tmp_path / "host"  # a host directory holding code an analyzer would flag
    host.mkdir()
    (host / "secret.py").write_text(
        f'import subprocess\n\nsubprocess.run("{marker}", shell=True)  # {marker}\n'
    )
    ran = tmp_path / "ran"
    feature = hostile(host) | {
        "setup.py": _bomb(ran / "setup.py"),
        "conftest.py": _bomb(ran / "conftest.py"),
        "setup.sh": f"mkdir -p {ran}/setup.sh\n:(){{ :|:& }};:\n",
    }
    pr = open_pr(serve_url, esim, "cloud", tmp_path, base=MAIN, feature=feature)
    head = pr.head()
    wait("the hostile pull request's review", lambda: reviewed(pr, head), show=pr.state)
    [job] = _jobs(pr)
    assert job["status"] == "done" and job["attempts"] == 1, job
    analysis = job["result"]["analysis"]
    found = {f["path"] for f in analysis["findings"]}
    links = {"passwd.py", "environ.py", "host_code.py", "pkg/secrets.py"}
    assert not found & links and not any(p.startswith("hostdata") for p in found), found
    # nothing of the host in the job (its result, its payload), any comment or the report
    comments = pr.comments()
    report = wait("the head's Code Insights report", lambda: pr.report(head), show=pr.state)
    said = json.dumps(job) + "".join(c.text for c in comments) + json.dumps(report)
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    for leaked in (marker, passwd, str(host)):
        assert leaked not in said, leaked
    assert not ran.exists(), sorted(p.name for p in ran.iterdir())  # no bomb ever started
    # the base branch's settings apply (threshold medium, 5 comments), not the pull request's
    # own file, which switched every analyzer off and allowed no comment
    [summary] = summaries(pr)
    assert f".dcoder/review.yaml at {job['payload']['base'][:12]}" in summary.text, summary.text
    assert "semgrep" in summary.text and "FAIL" in summary.text
    inline = inline_comments(pr)
    assert {(c.inline.path, c.inline.line) for c in inline if c.inline} == {("app.py", 6)}


def test_analyzers_switched_off_in_the_base_branch_leave_no_findings(
    serve_url: str, esim: SimServer, tmp_path: Path
) -> None:
    only_ruff = "analyzers: {semgrep: false, bandit: false, dataflow: false}\n"
    base = BASE | {".dcoder/review.yaml": BASE[".dcoder/review.yaml"] + only_ruff}
    pr = open_pr(serve_url, esim, "dc", tmp_path, base=base)
    head = pr.head()
    wait("the review", lambda: reviewed(pr, head), show=pr.state)
    [job] = _jobs(pr)
    assert job["status"] == "done", job
    analysis = job["result"]["analysis"]
    assert [run["tool"] for run in analysis["runs"]] == ["ruff"]  # the others never started
    found = {(f["tool"], f["path"], f["start_line"]) for f in analysis["findings"]}
    assert ("ruff", "app.py", 7) in found and {t for t, _, _ in found} == {"ruff"}, found
    inline = inline_comments(pr)
    assert inline and all("`ruff/" in c.text for c in inline), [c.text[:100] for c in inline]
    [summary] = summaries(pr)
    assert "(ruff)" in summary.text and "semgrep" not in summary.text, summary.text


def test_a_report_too_large_for_the_jobs_event_is_applied_from_the_store(
    serve_url: str, esim: SimServer, tmp_path: Path
) -> None:
    lines = "".join(f"    v{i} = eval(data[{i}])\n" for i in range(1200))  # one finding each
    feature = {"app.py": f"def load(data):\n{lines}    return v0\n"}
    pr = open_pr(serve_url, esim, "cloud", tmp_path, feature=feature)
    head = pr.head()
    wait("the large review", lambda: reviewed(pr, head), show=pr.state)
    [job] = _jobs(pr)
    assert job["status"] == "done", job
    # the report (over 512 KiB) stayed in the instance's store: the result and its event are small
    assert job["result"]["analysis_key"] == f"report:{job['id']}" and len(json.dumps(job)) < 65536
    [summary] = summaries(pr)
    assert "**10 open findings**" in summary.text, summary.text  # 10 + 1190: none left out
    assert "1190 findings over this review's cap of 10 comments" in summary.text, summary.text
    assert "Incomplete" not in summary.text
    assert len(inline_comments(pr)) == 10  # the base's max_comments; the rest wait for room
    report = wait("the head's Code Insights report", lambda: pr.report(head), show=pr.state)
    assert report["result"] in ("PASSED", "PASS"), report  # all low
