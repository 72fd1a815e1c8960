"""Serve setups a benchmark compares in one run: env knobs for `up` and serve.yaml overrides.

Env knobs (``RAY_SERVE_*``) are read by Serve's own processes, so each setup gets its own cold
``up``. Deployment overrides are applied after ``up`` by redeploying ``configs/serve.yaml`` with
the Ingress deployment (and the application's ``logging_config``) changed, declaratively, as an
operator would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.support.service import Service
from core.paths import PROJECT_ROOT
from core.settings import Settings, load_settings
from serve_app.launcher.deploy import dashboard_url, deploy, render_config, wait_ready
from serve_app.launcher.ray_head import auth_env

SETUPS_ENV = "BENCH_WEBHOOKS_SETUPS"
"""JSON list of setups, each ``{"label", "env", "deployment", "app_logging"}``."""
REDEPLOY_TIMEOUT_S = 120.0


@dataclass
class Setup:
    """One Serve configuration under test."""

    label: str
    env: dict[str, str] = field(default_factory=dict)
    deployment: dict[str, Any] = field(default_factory=dict)
    app_logging: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"`{k}={v}`" for k, v in self.env.items()]
        parts += [f"`{k}: {json.dumps(v)}`" for k, v in self.deployment.items()]
        parts += [f"app `logging_config.{k}: {v}`" for k, v in self.app_logging.items()]
        return ", ".join(parts) or "`configs/serve.yaml` and `up` as shipped"


def setups(default: list[Setup]) -> list[Setup]:
    """The setups named in $BENCH_WEBHOOKS_SETUPS, else ``default``."""
    raw = os.environ.get(SETUPS_ENV)
    if not raw:
        return default
    return [Setup(**item) for item in json.loads(raw)]


def _app_status(settings: Settings) -> tuple[str, float]:
    from ray.dashboard.modules.serve.sdk import ServeSubmissionClient

    details = ServeSubmissionClient(dashboard_url(settings)).get_serve_details()
    app = (details.get("applications") or {}).get("dcoder") or {}
    return str(app.get("status")), float(app.get("last_deployed_time_s") or 0)


def redeploy(config_path: Path) -> None:
    """Deploy ``config_path`` to the service named by this process's env; wait until RUNNING."""
    settings = load_settings()
    since = deploy(settings, config_path)
    deadline = time.monotonic() + REDEPLOY_TIMEOUT_S
    time.sleep(2.0)
    status, deployed = _app_status(settings)
    while status != "RUNNING" or deployed < since - 1:
        if time.monotonic() > deadline:
            raise TimeoutError(f"redeploy not RUNNING after {REDEPLOY_TIMEOUT_S:.0f}s: {status}")
        time.sleep(1.0)
        status, deployed = _app_status(settings)
    wait_ready(settings, since)


def apply(setup: Setup, svc: Service) -> None:
    """Redeploy the service's serve.yaml with the setup's overrides (no-op without any)."""
    if not (setup.deployment or setup.app_logging):
        return
    config = render_config(svc.settings)
    app = config["applications"][0]
    app.setdefault("logging_config", {}).update(setup.app_logging)
    ingress = next(d for d in app["deployments"] if d["name"] == "Ingress")
    ingress.update(setup.deployment)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(config, f)
    # In a fresh process: Ray reads RAY_AUTH_* when first imported, and this one has imported
    # it already without the token mode the local head runs with.
    env = {**svc.env, **auth_env(svc.settings)}
    try:
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.support.serve_setup", f.name], env=env,
            cwd=PROJECT_ROOT, check=True, timeout=REDEPLOY_TIMEOUT_S + 120,
        )  # fmt: skip
    finally:
        Path(f.name).unlink(missing_ok=True)


if __name__ == "__main__":
    redeploy(Path(sys.argv[1]))
