"""Reviews as Ray tasks on the session cluster: progress, the chosen backend, supersede = cancel."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import ray
from ray import cloudpickle

from actors.naming import REVIEW_COORDINATOR
from sandbox.backends.base import Limits, RunResult, SandboxBackend
from sandbox.ray_task import ReviewRequest, ReviewState, ReviewStatus, coordinator

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


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def coord(ray_address: str) -> Any:
    return coordinator(REVIEW_COORDINATOR)


def status(coord: Any, review_id: str) -> ReviewStatus:
    result: ReviewStatus = ray.get(coord.status.remote(review_id), timeout=WAIT_S)
    return result


def test_review_reports_progress_and_backend(coord: Any, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print(1)\n")
    request = ReviewRequest(key=f"t/repo/{uuid.uuid4().hex}", source_dir=tmp_path)
    review_id = ray.get(
        coord.submit.remote(request, sandboxed(["/bin/cat", "a.py"])), timeout=WAIT_S
    )

    result: RunResult = ray.get(coord.result.remote(review_id, WAIT_S), timeout=WAIT_S + 5)

    assert result.ok and result.stdout == "print(1)\n"
    final = status(coord, review_id)
    assert final.state is ReviewState.DONE
    assert final.backend == result.backend
    assert [stage for _, stage, _ in final.stages] == ["sandbox", "running", "finished"]


def test_newer_commit_cancels_the_older_review(coord: Any, tmp_path: Path) -> None:
    marker = f"dcoder-review-{uuid.uuid4().hex}"
    key = f"t/repo/{uuid.uuid4().hex}"
    request = ReviewRequest(key=key, source_dir=tmp_path)
    slow = sandboxed(["/bin/bash", "-c", f"exec -a {marker} sleep 300"])
    older = ray.get(coord.submit.remote(request, slow), timeout=WAIT_S)
    wait_for(lambda: any(s == "running" for _, s, _ in status(coord, older).stages), "older start")
    wait_for(lambda: bool(_processes_named(marker)), "the sandboxed sleep")

    newer = ray.get(coord.submit.remote(request, sandboxed(["/bin/true"])), timeout=WAIT_S)

    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(coord.result.remote(older, WAIT_S), timeout=WAIT_S + 5)
    assert status(coord, older).state is ReviewState.SUPERSEDED
    assert ray.get(coord.result.remote(newer, WAIT_S), timeout=WAIT_S + 5).ok
    assert ray.get(coord.latest.remote(key), timeout=WAIT_S) == newer
    wait_for(lambda: not _processes_named(marker), "the older sandbox to be killed")


def _processes_named(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_review_task_runs_the_real_analysis(coord: Any, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    )
    request = ReviewRequest(key=f"t/repo/{uuid.uuid4().hex}", source_dir=tmp_path)
    review_id = ray.get(coord.submit.remote(request), timeout=WAIT_S)

    report = ray.get(coord.result.remote(review_id, 240), timeout=250)

    assert report.complete
    assert {f.path for f in report.findings} == {"app.py"}
    final = status(coord, review_id)
    assert report.backend == final.backend
    assert any(stage == "analysis" for _, stage, _ in final.stages)
