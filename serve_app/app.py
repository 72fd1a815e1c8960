"""The Ray Serve application: one ingress deployment wrapping the FastAPI API.

``configs/serve.yaml`` points at ``serve_app.app:build_app`` with typed ``args``; ``app`` at the
end serves ``serve run serve_app.app:app`` with defaults.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from ray import serve
from ray.serve import Application

from actors import spawn
from core.logging import configure_logging
from core.settings import load_settings
from serve_app.api import create_api
from serve_app.openapi import install_openapi
from serve_app.services import Services

log = logging.getLogger(__name__)


class AppArgs(BaseModel):
    """Arguments of the application builder (``args`` in serve.yaml)."""

    model_config = ConfigDict(extra="forbid")

    readiness_timeout_s: float = Field(2.0, gt=0, description="timeout of each readiness probe")


class UserConfig(BaseModel):
    """Runtime-tunable values (``user_config`` in serve.yaml), applied by ``reconfigure``."""

    model_config = ConfigDict(extra="forbid")

    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    webhooks_max_inflight: int | None = Field(
        None, ge=1, description="in-flight webhook bound per replica (unset: the setting "
        "DCODER_WEBHOOKS_MAX_INFLIGHT); see serve_app/admission.py",
    )  # fmt: skip


@serve.deployment(name="Ingress")
@serve.ingress()
class Ingress:
    """The HTTP ingress. Settings are built once here, from the replica's environment."""

    def __init__(self, args: AppArgs) -> None:
        settings = load_settings()
        configure_logging(settings.log_level)
        self.services = Services.create(settings)
        self.services.readiness_timeout_s = args.readiness_timeout_s
        # The consumers live as long as the cluster; every replica makes sure they run (and
        # checks again every few seconds while it serves webhooks or readiness probes).
        spawn.keep_running(settings)  # relays, and the job runner (background jobs, schedules)
        self.services.relays_checked_at = time.monotonic()

    def __serve_build_asgi_app__(self) -> FastAPI:
        # The refined OpenAPI document, offline docs and full Allow answers (serve_app/openapi.py).
        return install_openapi(create_api(self.services))

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        config = UserConfig.model_validate(user_config)
        logging.getLogger().setLevel(config.log_level)
        ingest = self.services.ingest
        ingest.admission.limit = config.webhooks_max_inflight or ingest.settings.max_inflight

    async def __del__(self) -> None:
        await self.services.close()


def build_app(args: AppArgs | dict[str, Any]) -> Application:
    """The application builder named in configs/serve.yaml (``args`` validated as AppArgs)."""
    # Serve hands over a plain dict when it cannot resolve the annotation: validate it here.
    typed = args if isinstance(args, AppArgs) else AppArgs.model_validate(args)
    return Ingress.bind(typed)  # type: ignore[attr-defined]


app = build_app(AppArgs())
