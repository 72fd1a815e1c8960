"""Reviews in the SDK harness against the simulators, beyond the basics of test_plugin.py: the
analyzer switches, a hostile pull request, the commands' replies and a failed review said once
(the real fetch over HTTP and the real sandbox); a fetch the egress guard refuses; a retried
apply that reuses the job's LLM review (the platform's gateway against a local OpenAI-compatible
endpoint); a report too large for the job's result, applied from the instance's store."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from plugin_sdk import PermanentError
from plugin_sdk.testing import PluginHarness
from plugins.bitbucket.errors import BitbucketUnavailable
from plugins.bitbucket.plugin import BitbucketPlugin
from tests.plugins.bitbucket.conftest import SimServer
from tests.plugins.bitbucket.repos import Made, account, cloud_pr, dc_pr, hostile
from tests.plugins.bitbucket.test_plugin import _alice, _harness, _mention, _payloads, _with_text


def _auth(sim: SimServer, harness: PluginHarness[BitbucketPlugin], flavour: str) -> None:
    me = account(sim, "dcoder-agent")
    basic = base64.b64encode(f"{me.email}:{me.api_token}".encode()).decode()
    harness.job_auth = f"Basic {basic}" if flavour == "cloud" else f"Bearer {me.pat}"


async def _mine(sim: SimServer, harness: PluginHarness[BitbucketPlugin], made: Made) -> list[str]:
    me = account(sim, "dcoder-agent")
    found = await harness.plugin.client().comments(made.repo, made.pr_id)
    return [c.text for c in found if c.author.name == me.username]


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
async def test_switched_off_analyzers_do_not_run(sim: SimServer, flavour: str) -> None:
    made = cloud_pr(sim) if flavour == "cloud" else dc_pr(sim)
    only_ruff = {"analyzers": {"semgrep": False, "bandit": False, "dataflow": False}}
    harness = _harness(sim, flavour, repositories=[made.repo.full_name], review=only_ruff)
    await harness.install()
    await harness.enable()
    key, opened = _payloads(flavour, made)["opened"]
    await harness.webhook(opened, headers={"X-Event-Key": key})
    me = account(sim, "dcoder-agent")
    _auth(sim, harness, flavour)
    [done] = await harness.run_jobs()
    assert done.subject == "job.completed", done.data
    analysis = done.data["result"]["analysis"]
    assert [run["tool"] for run in analysis["runs"]] == ["ruff"]  # the others never started
    # ruff's S602 on the shell=True line (low: below the base's threshold, so counted, not posted)
    assert {(f["tool"], f["path"], f["start_line"]) for f in analysis["findings"]} == {
        ("ruff", "app.py", 6)
    }
    mine = [c for c in await harness.plugin.client().comments(made.repo, made.pr_id)
            if c.author.name == me.username]  # fmt: skip
    inline = [c for c in mine if c.inline is not None]
    assert all("`ruff/" in c.text for c in inline), [c.text[:120] for c in inline]
    [summary] = [c for c in mine if "edited on every push" in c.text]
    assert "ruff" in summary.text and "semgrep" not in summary.text, summary.text
    await harness.aclose()


def _first_line(path: Path) -> str:
    return path.read_text().splitlines()[0]


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
async def test_a_hostile_pull_request_is_contained_and_its_settings_ignored(
    sim: SimServer, flavour: str, tmp_path: Path
) -> None:
    marker = f"HOST-SECRET-{uuid.uuid4().hex}"
    (tmp_path / "secret.py").write_text(
        f'import subprocess\n\nsubprocess.run("{marker}", shell=True)  # {marker}\n'
    )
    feature = hostile(tmp_path)
    made = (cloud_pr if flavour == "cloud" else dc_pr)(sim, feature=feature)
    harness = _harness(sim, flavour, repositories=[made.repo.full_name])
    await harness.install()
    await harness.enable()
    key, opened = _payloads(flavour, made)["opened"]
    await harness.webhook(opened, headers={"X-Event-Key": key})
    me = account(sim, "dcoder-agent")
    _auth(sim, harness, flavour)
    [done] = await harness.run_jobs()  # finishes: nothing of the PR is executed
    assert done.subject == "job.completed", done.data
    mine = [c for c in await harness.plugin.client().comments(made.repo, made.pr_id)
            if c.author.name == me.username]  # fmt: skip
    said = json.dumps(done.data) + "".join(c.text for c in mine) + json.dumps(
        [e.data for e in harness.published_events])  # fmt: skip
    passwd = _first_line(Path("/etc/passwd"))  # e.g. root:x:0:0:root:/root:/bin/bash
    for leaked in (marker, passwd, str(tmp_path)):
        assert leaked not in said, leaked
    found = {f["path"] for f in done.data["result"]["analysis"]["findings"]}
    links = {"passwd.py", "environ.py", "host_code.py", "pkg/secrets.py"}
    assert not found & links and not any(p.startswith("hostdata") for p in found), found
    # the base branch's settings apply, not the PR's own file (which switched everything off)
    [summary] = [c for c in mine if "edited on every push" in c.text]
    assert ".dcoder/review.yaml at" in summary.text and "semgrep" in summary.text
    inline = [c for c in mine if c.inline is not None]
    assert {c.inline.line for c in inline if c.inline and c.inline.path == "app.py"} == {6}
    await harness.aclose()


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
async def test_help_and_review_of_a_reviewed_head_are_answered(
    sim: SimServer, flavour: str
) -> None:
    made = cloud_pr(sim) if flavour == "cloud" else dc_pr(sim)
    harness = _harness(sim, flavour, repositories=[made.repo.full_name])
    await harness.install()
    await harness.enable()
    ckey, comment = _payloads(flavour, made)["comment"]
    for words in ("help", "what can you do"):  # an unknown word is a help request too
        body = _with_text(flavour, comment, _mention(sim, flavour, words), _alice(flavour))
        delivery = await harness.webhook(body, headers={"X-Event-Key": ckey})
        await harness.redeliver(delivery)  # a replay: no second answer
    helps = [t for t in await _mine(sim, harness, made) if t.startswith("ℹ️ I understand")]
    assert len(helps) == 2 and "`full review`" in helps[0] and harness.jobs == []
    # the head is reviewed already (as the ledger says): `review` answers, `full review` runs
    head = (await harness.plugin.client().pull_request(made.repo, made.pr_id)).head
    review_key = f"{flavour}:{made.repo.full_name}#{made.pr_id}"
    await harness.store.set(f"ledger:{review_key}", {"key": review_key, "last_head": head})
    body = _with_text(flavour, comment, _mention(sim, flavour, "review"), _alice(flavour))
    await harness.webhook(body, headers={"X-Event-Key": ckey})
    assert harness.jobs == []
    assert f"✅ {head[:12]} is reviewed already" in "".join(await _mine(sim, harness, made))
    body = _with_text(flavour, comment, _mention(sim, flavour, "full review"), _alice(flavour))
    await harness.webhook(body, headers={"X-Event-Key": ckey})
    [job] = harness.jobs
    assert job.submission.payload["full"] is True and job.submission.payload["head"] == head
    await harness.aclose()


async def test_a_failed_review_is_said_once_without_secrets(sim: SimServer) -> None:
    made = cloud_pr(sim)
    harness = _harness(sim, repositories=[made.repo.full_name])
    await harness.install()
    await harness.enable()
    key, opened = _payloads("cloud", made)["opened"]
    await harness.webhook(opened, headers={"X-Event-Key": key})
    git = f"/bitbucket/{made.repo.owner}/{made.repo.slug}.git"  # this repository's git only
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as http:
        rule = {"path_prefix": git, "kind": "server_error", "status": 503, "count": None}
        assert (await http.post("/_sim/faults", json=rule)).status_code == 201
    harness.job_auth = "Bearer not-the-token-0123456789abcdef"
    [failed] = await harness.run_jobs()
    assert failed.subject == "job.failed", failed.data
    await harness.redeliver_event(failed)  # the event again: still one comment
    mine = await _mine(sim, harness, made)
    notes = [t for t in mine if t.startswith("⚠️ The review did not finish")]
    assert len(notes) == 1 and "could not fetch" in notes[0], mine
    assert "0123456789abcdef" not in notes[0] and "not-the-token" not in notes[0]
    assert not [e for e in harness.published_events if e.subject == "review.completed"]
    await harness.aclose()


async def test_a_clone_url_the_egress_guard_refuses_is_not_fetched(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = cloud_pr(sim)
    harness = _harness(sim, repositories=[made.repo.full_name])
    await harness.install()
    await harness.enable()
    key, opened = _payloads("cloud", made)["opened"]
    await harness.webhook(opened, headers={"X-Event-Key": key})
    # the operator has not listed the simulator's loopback port: its clone URL is refused
    monkeypatch.setenv("DCODER_EGRESS_ALLOW", "")
    git = f"/bitbucket/{made.repo.owner}/{made.repo.slug}.git"
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as http:
        rule = {"path_prefix": git, "kind": "server_error", "status": 503, "count": 1}
        assert (await http.post("/_sim/faults", json=rule)).status_code == 201
        _auth(sim, harness, "cloud")
        try:
            [failed] = await harness.run_jobs()
            assert failed.subject == "job.failed", failed.data
            error = failed.data["error"]
            assert f"refusing to fetch {sim.url}{git}" in error, error
            assert "127.0.0.1 refused: it is a loopback address" in error, error
            rules = (await http.get("/_sim/faults")).json()
            mine = [r for r in rules if r["path_prefix"] == git]
            assert mine and mine[0]["hits"] == 0, rules  # never asked: nothing fetched
        finally:
            await http.delete("/_sim/faults")
    notes = [t for t in await _mine(sim, harness, made) if "did not finish" in t]
    assert len(notes) == 1 and "loopback address" in notes[0], notes
    await harness.aclose()


async def test_a_retried_apply_reuses_the_jobs_llm_review(sim: SimServer) -> None:
    from core.llm import LiteLlmGateway
    from core.settings import LlmSettings
    from plugin_sdk.events import Event, EventSource
    from plugin_sdk.jobs import JOB_COMPLETED, outcome_data
    from tests.plugins.jira.test_llm_endpoint import Provider

    answer = {"findings": [{
        "path": "app.py", "line": 2, "severity": "medium", "category": "error-handling",
        "confidence": 0.9, "message": "KeyError when CMD is unset",
        "fix_hint": "Use os.environ.get with a default.",
    }]}  # fmt: skip
    provider = Provider(["{}", json.dumps(answer), json.dumps(answer)])
    url = await provider.start()
    gateway = LiteLlmGateway(LlmSettings(model="openai/test-model", api_base=url,
                                         api_key=SecretStr("k"), timeout_s=30))  # fmt: skip
    await gateway.complete([{"role": "user", "content": "warm up"}], max_tokens=10)
    provider.requests.clear()
    made = cloud_pr(sim)
    harness = _harness(sim, llm=gateway, repositories=[made.repo.full_name])  # type: ignore[arg-type]
    await harness.install()
    await harness.enable()
    key, opened = _payloads("cloud", made)["opened"]
    await harness.webhook(opened, headers={"X-Event-Key": key})
    _auth(sim, harness, "cloud")
    pull = f"/bitbucket/2.0/repositories/{made.repo.full_name}/pullrequests/{made.pr_id}"
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as http:
        rule = {"path_prefix": f"{pull}/comments", "method": "POST", "kind": "server_error",
                "status": 503, "count": 1}  # fmt: skip
        assert (await http.post("/_sim/faults", json=rule)).status_code == 201
        with pytest.raises(BitbucketUnavailable, match="503"):  # the apply fails while posting
            await harness.run_jobs()
    assert len(provider.requests) == 1
    [job] = harness.jobs
    assert job.status == "done" and job.result is not None
    event = Event(
        id=f"{job.id}:done", subject=JOB_COMPLETED, tenant_id=harness.tenant_id,
        source=EventSource(plugin="bitbucket", instance_id=harness.instance_id),
        data=outcome_data(job.id, "review", job.submission.key, job.result, None, 1),
    )  # fmt: skip
    await harness.redeliver_event(event)  # the delivery's retry: the same job's outcome
    await harness.redeliver_event(event)  # and a replay of it
    assert len(provider.requests) == 1  # the model was asked once for the job
    mine = await _mine(sim, harness, made)
    assert len([t for t in mine if "KeyError when CMD is unset" in t]) == 1, mine
    [summary] = [t for t in mine if "edited on every push" in t]
    assert "and LLM review (prompt bitbucket-review@v1)" in summary
    await harness.aclose()
    assert provider.server is not None
    provider.server.close()


async def test_a_report_too_large_for_the_result_is_applied_from_the_store(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import plugins.bitbucket.job as review_job

    monkeypatch.setattr(review_job, "MAX_REPORT_BYTES", 1024)  # this small report is "too large"
    made = cloud_pr(sim)
    harness = _harness(sim, repositories=[made.repo.full_name])
    await harness.install()
    await harness.enable()
    key, opened = _payloads("cloud", made)["opened"]
    await harness.webhook(opened, headers={"X-Event-Key": key})
    _auth(sim, harness, "cloud")
    [done] = await harness.run_jobs()
    assert done.subject == "job.completed", done.data
    result = done.data["result"]
    assert "analysis" not in result and result["analysis_key"] == f"report:{done.data['job_id']}"
    stored = await harness.store.get(result["analysis_key"])
    assert {(f["path"], f["start_line"]) for f in stored["findings"]} >= {("app.py", 6)}
    mine = [c for c in await harness.plugin.client().comments(made.repo, made.pr_id)
            if c.author.name == account(sim, "dcoder-agent").username]  # fmt: skip
    assert {c.inline.line for c in mine if c.inline} == {6}  # applied as usual
    assert len([c for c in mine if "edited on every push" in c.text]) == 1
    await harness.store.delete(result["analysis_key"])  # expired: a late replay says so
    with pytest.raises(PermanentError, match="is no longer in the store"):
        await harness.redeliver_event(done)
    await harness.aclose()
