"""The review on a ``sandbox`` Ray worker: stages, the chosen backend, the built-in job kind.

Supersede and cancel of running jobs (reviews included) are the job runner's: tests/serve_app/
test_jobs_api.py."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import ray
from ray import cloudpickle

from plugin_sdk.jobs import JobRun
from sandbox.backends.base import Limits, RunResult, SandboxBackend
from sandbox.ray_task import ReviewRequest, review_job, run_review

pytestmark = pytest.mark.ray
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import tests/

WAIT_S = 60.0


def sandboxed(argv: list[str]) -> Callable[..., RunResult]:
    """A review job that runs ``argv`` in the sandbox over the tree."""

    def job(
        request: ReviewRequest,
        backend: SandboxBackend,
        source: Path,
        progress: Callable[[str, str], None],
    ) -> RunResult:
        ws = backend.prepare(source)
        try:
            progress("running", " ".join(argv))
            return backend.run(ws, argv, Limits(wall_timeout_s=120))
        finally:
            backend.cleanup(ws)

    return job


@ray.remote(resources={"sandbox": 1}, num_cpus=0.5, max_retries=0)
def review_on_sandbox(request: ReviewRequest, job: Any) -> tuple[Any, list[str]]:
    """``run_review`` in a task placed on a sandbox worker; its result and the stages seen."""
    stages: list[str] = []
    result = run_review(request, lambda stage, detail="": stages.append(stage), job)
    return result, stages


@ray.remote(resources={"sandbox": 1}, num_cpus=0.5, max_retries=0)
def review_job_on_sandbox(run: JobRun) -> Any:
    return review_job(run)


def test_review_reports_progress_and_backend(ray_address: str, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print(1)\n")
    request = ReviewRequest(key=f"t/repo/{uuid.uuid4().hex}", source_dir=tmp_path)

    result, stages = ray.get(
        review_on_sandbox.remote(request, sandboxed(["/bin/cat", "a.py"])), timeout=WAIT_S
    )

    assert result.ok and result.stdout == "print(1)\n"
    assert stages == ["sandbox", "running", "finished"]


def test_review_job_kind_runs_the_real_analysis(ray_address: str, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    )
    run = JobRun(
        id="job-review", kind="sandbox.review", payload={"source_dir": str(tmp_path)},
        tenant_id="t", instance_id="i", config={}, attempt=1,
    )  # fmt: skip

    report = ray.get(review_job_on_sandbox.remote(run), timeout=250)

    assert report["complete"] is True and report["backend"]
    assert {f["path"] for f in report["findings"]} == {"app.py"}
