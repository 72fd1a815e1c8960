"""A job runner killed for good is created again by the ingress (``Services.keep_relays``, run
while it serves readiness probes and webhooks), not only by the next job submitted."""

from __future__ import annotations

import os
import time

import httpx
import ray

from actors import naming

WAIT_S = 90.0  # keep_relays runs at most every 10 s per replica; Ray starts the actor after


def _runner_id(namespace: str) -> str | None:
    """The live job runner's actor id (None while there is none that answers)."""
    try:
        runner = ray.get_actor(naming.JOB_RUNNER, namespace=namespace)
        ray.get(runner.stats.remote(), timeout=10)
    except (ValueError, ray.exceptions.RayError):
        return None
    return str(runner._actor_id.hex())


def test_a_killed_job_runner_comes_back_without_a_submit(serve_url: str) -> None:
    namespace = os.environ["DCODER_RAY_NAMESPACE"]
    with httpx.Client(base_url=serve_url, timeout=30) as http:
        deadline = time.monotonic() + WAIT_S
        while (before := _runner_id(namespace)) is None:  # the ingress started it
            assert time.monotonic() < deadline, "the job runner never started"
            http.get("/readyz")
            time.sleep(0.5)
        ray.kill(ray.get_actor(naming.JOB_RUNNER, namespace=namespace), no_restart=True)
        deadline = time.monotonic() + WAIT_S
        while (after := _runner_id(namespace)) is None:
            assert time.monotonic() < deadline, "the killed job runner was not created again"
            http.get("/readyz")
            time.sleep(1.0)
    assert after != before
