"""Background jobs and schedules in the SDK: the manifest, ``ctx.jobs`` and the harness."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from core.errors import PermanentError, ValidationFailed
from core.oauth import CredentialsRefused
from plugin_sdk import Manifest
from plugin_sdk.events import Event, EventSource
from plugin_sdk.jobs import JOB_COMPLETED, JOB_FAILED, JobOutcome, JobRun, failure_of, outcome_data
from plugin_sdk.testing import PluginHarness
from tests.plugin_sdk.word_count.plugin import WordCount

BASE: dict[str, Any] = {
    "name": "x", "version": "1.0.0", "sdk_api": ">=1.0,<2", "description": "d",
}  # fmt: skip


async def test_a_submitted_job_runs_and_its_outcome_reaches_handle_event() -> None:
    async with PluginHarness(WordCount) as harness:
        await harness.install()
        await harness.enable()
        delivery = await harness.webhook({"text": "to be or not to be"})
        await harness.redeliver(delivery)  # a redelivery submits nothing more

        assert [j.submission.kind for j in harness.jobs] == ["count-words"]
        [event] = await harness.run_jobs()

        assert event.subject == JOB_COMPLETED
        assert harness.jobs[0].status == "done" and harness.jobs[0].progress == 1.0
        assert await harness.store.get("last_count") == {"words": 6, "distinct": 4}
        await harness.redeliver_event(event)  # a redelivered outcome is stored once
        assert len([k for k in harness.ledger.done_keys() if k.endswith("/store")]) == 1


async def test_same_key_supersedes_a_queued_job() -> None:
    async with PluginHarness(WordCount) as harness:
        await harness.install()
        await harness.enable()
        await harness.webhook({"text": "one"})
        await harness.webhook({"text": "one two"})
        assert [j.status for j in harness.jobs] == ["superseded", "queued"]
        await harness.run_jobs()
        assert await harness.store.get("last_count") == {"words": 2, "distinct": 2}


async def test_a_failing_job_arrives_as_job_failed() -> None:
    async with PluginHarness(WordCount) as harness:
        await harness.install()
        await harness.enable()
        await harness.ctx.jobs.submit("count-words", {"no_text": True})
        [event] = await harness.run_jobs()
        outcome = JobOutcome.of(event)
        assert event.subject == JOB_FAILED and outcome is not None and not outcome.ok
        assert "KeyError" in str(await harness.store.get("last_error"))


def test_a_failure_keeps_the_platform_error_code_and_whether_credentials_were_refused() -> None:
    refused = failure_of(CredentialsRefused("token endpoint refused the grant: invalid_grant"))
    assert refused == {"error_code": "credentials-refused", "auth_refused": True}
    assert failure_of(PermanentError("bad")) == {"error_code": "permanent", "auth_refused": False}
    assert failure_of(KeyError("x")) is None
    data = outcome_data("j1", "sync", "k", refused, "CredentialsRefused: ...", 1)
    event = Event(subject=JOB_FAILED, tenant_id="t", data=data,
                  source=EventSource(plugin="x", instance_id="i"))  # fmt: skip
    outcome = JobOutcome.of(event)
    assert outcome is not None and outcome.auth_refused and outcome.error_code == refused[
        "error_code"] and outcome.result is None  # fmt: skip
    plain = JobOutcome.of(event.model_copy(update={"data": outcome_data(
        "j1", "sync", "k", None, "KeyError: 'x'", 1)}))  # fmt: skip
    assert plain is not None and not plain.auth_refused and plain.error_code is None


async def test_submit_checks_kind_payload_and_options() -> None:
    async with PluginHarness(WordCount) as harness:
        with pytest.raises(PermanentError, match="declares no job kind 'mine-bitcoin'"):
            await harness.ctx.jobs.submit("mine-bitcoin", {})
        with pytest.raises(ValidationFailed, match="not JSON"):
            await harness.ctx.jobs.submit("count-words", {"text": object()})
        with pytest.raises(ValidationFailed, match="resources"):
            await harness.ctx.jobs.submit("count-words", {}, resources={"sandbox": -1})
        job_id = await harness.ctx.jobs.submit("count-words", {"text": "a"}, timeout_s=5)
        [job] = harness.jobs
        assert job.id == job_id and job.submission.timeout_s == 5
        assert job.submission.max_attempts == 3 and job.submission.resources == {}


async def test_a_schedule_tick_runs_run_scheduled() -> None:
    async with PluginHarness(WordCount) as harness:
        await harness.install()
        await harness.enable()
        await harness.webhook({"text": "a b c"})
        await harness.run_jobs()
        await harness.tick("nightly")
        assert [j.status for j in harness.jobs] == ["done", "queued"]
        with pytest.raises(PermanentError, match="no schedule"):
            await harness.tick("hourly")


def test_run_job_gets_payload_config_and_progress() -> None:
    reported: list[float] = []
    run = JobRun(
        id="j", kind="count-words", payload={"text": "w " * 2500}, tenant_id="t",
        instance_id="i", config={}, attempt=1, report=lambda f, m: reported.append(f),
    )  # fmt: skip
    assert WordCount.run_job(run) == {"words": 2500, "distinct": 1}
    assert reported == [0.4, 0.8]


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"schedules": [{"name": "s", "interval_s": 60}]}, "needs capability 'scheduled'"),
        ({"capabilities": ["scheduled"], "schedules": [{"name": "s"}]}, "exactly one of"),
        ({"capabilities": ["scheduled"],
          "schedules": [{"name": "s", "interval_s": 60, "cron": "* * * * *"}]}, "exactly one of"),
        ({"capabilities": ["scheduled"], "schedules": [{"name": "s", "cron": "61 * * * *"}]},
         "minute"),
        ({"capabilities": ["scheduled"], "schedules": [{"name": "s", "interval_s": 0.5}]},
         "greater than or equal to 1"),
        ({"jobs": [{"kind": "a"}, {"kind": "a"}]}, "job kinds must be unique"),
        ({"jobs": [{"kind": "Bad Kind"}]}, "pattern"),
    ],
)  # fmt: skip
def test_bad_jobs_and_schedules_are_refused(extra: dict[str, Any], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        Manifest.model_validate({**BASE, **extra})


async def test_the_builtin_review_kind_needs_no_declaration_and_asks_for_a_sandbox() -> None:
    async with PluginHarness(WordCount) as harness:
        await harness.ctx.jobs.submit("sandbox.review", {"source_dir": "/src"}, key="pr-1")
        [job] = harness.jobs
        assert job.submission.resources == {"sandbox": 1}
        assert (job.submission.timeout_s, job.submission.max_attempts) == (900.0, 2)
