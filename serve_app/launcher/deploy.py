"""Deploy configs/serve.yaml declaratively (what ``serve deploy`` does) and wait until ready."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from core.errors import DependencyUnavailable
from core.paths import CONFIGS_DIR
from core.settings import Settings
from serve_app.launcher.ray_head import use_auth

SERVE_CONFIG = CONFIGS_DIR / "serve.yaml"


def render_config(settings: Settings, path: Path = SERVE_CONFIG) -> dict[str, Any]:
    """The Serve config with the HTTP host and port taken from settings; on a local head, the
    ingress replicas capped to what the machine's CPUs can run (``capped_max_replicas``)."""
    config: dict[str, Any] = yaml.safe_load(path.read_text())
    config.setdefault("http_options", {}).update(host=settings.http.host, port=settings.http.port)
    if settings.ray.address is None:
        cpus = settings.ray.num_cpus or os.cpu_count() or 1
        for app in config.get("applications", []):
            for deployment in app.get("deployments", []):
                scaling = deployment.get("autoscaling_config") or {}
                if "max_replicas" in scaling:
                    scaling["max_replicas"] = capped_max_replicas(scaling, cpus)
    return config


def capped_max_replicas(scaling: dict[str, Any], cpus: int) -> int:
    """The ``max_replicas`` of an ``autoscaling_config`` as deployed on a local head of ``cpus``
    CPUs: the configured bound, lowered to ``local_max_replicas`` but not below ``min_replicas``."""
    high = int(scaling.get("max_replicas", 1))
    return min(high, max(local_max_replicas(cpus), int(scaling.get("min_replicas", 1))))


def local_max_replicas(cpus: int) -> int:
    """Ingress replicas one machine runs usefully: one per two CPUs, at least one.

    A replica's requests cost about as much CPU again in PostgreSQL, NATS, HAProxy and the
    dispatch, all on the same machine; replicas beyond that only share the same CPUs, each with
    its own per-process overhead. On 2 CPUs the soak's burst scaled the ingress to 3-4 replicas
    that stayed minutes after it, with the p99 about twice the single replica's (issue #19).
    """
    return max(1, cpus // 2)


def dashboard_url(settings: Settings) -> str:
    return settings.ray.dashboard_url or f"http://127.0.0.1:{settings.ray.dashboard_port}"


def deploy(settings: Settings, path: Path = SERVE_CONFIG) -> float:
    """Submit the config to the cluster's dashboard (declarative, idempotent); return when."""
    use_auth(settings)
    from ray.dashboard.modules.serve.sdk import ServeSubmissionClient

    client = ServeSubmissionClient(dashboard_url(settings))
    client.deploy_applications(render_config(settings, path))
    return time.time()


def api_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.http.host in ("0.0.0.0", "::") else settings.http.host  # noqa: S104
    return f"http://{host}:{settings.http.port}"


def _deploy_failure(settings: Settings, since: float) -> str | None:
    """The message of a deployment submitted after ``since`` that failed, if Serve reports one."""
    use_auth(settings)
    from ray.dashboard.modules.serve.sdk import ServeSubmissionClient

    try:
        details = ServeSubmissionClient(dashboard_url(settings)).get_serve_details()
    except Exception:  # noqa: BLE001 - status is best effort; readiness polling decides
        return None
    for name, app in (details.get("applications") or {}).items():
        fresh = (app.get("last_deployed_time_s") or 0) >= since - 1
        if fresh and app.get("status") == "DEPLOY_FAILED":
            return f"application {name!r} failed to deploy: {app.get('message', '')[-1500:]}"
    return None


def wait_ready(settings: Settings, since: float, timeout_s: float = 240.0) -> dict[str, Any]:
    """Poll /readyz until 200 (or the deploy made at ``since`` fails); return the body."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while time.monotonic() < deadline:
        failure = _deploy_failure(settings, since)
        if failure:
            raise DependencyUnavailable(failure)
        try:
            response = httpx.get(f"{api_url(settings)}/readyz", timeout=5.0)
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                return body
            last = f"{response.status_code}: {response.text[:300]}"
        except httpx.HTTPError as err:
            last = repr(err)
        time.sleep(0.5)
    raise DependencyUnavailable(f"service not ready after {timeout_s:.0f}s (last: {last})")
