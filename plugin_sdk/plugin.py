"""The ``Plugin`` base class: a small set of async lifecycle hooks around a ``PluginContext``.

A plugin is a ``manifest.json`` plus a subclass of ``Plugin`` defined in a module in the same
folder. The host (the service's tenant actor, or ``plugin_sdk.testing.PluginHarness``) builds one
instance per (tenant, plugin instance) with its context and calls the hooks:

- ``configure()`` whenever a config is set (before ``install`` on creation): check it against the
  external system (credentials work, project exists), raise ``PluginConfigInvalid`` /
  ``PluginAuthFailed`` if not. The host builds a fresh instance with the candidate config.
- ``install()`` once, after the first successful ``configure``: create remote resources.
- ``enable()`` / ``disable()``: start / stop processing; deliveries arrive only while enabled.
- ``uninstall()``: remove what ``install`` created (best effort; the instance is deleted anyway).
- ``upgrade(from_version, old_config) -> new_config``: called on the *new* version's class when an
  instance moves to it; ``self.ctx.config`` is still the old config.
- ``handle_webhook(delivery)`` / ``handle_event(event)``: process one verified delivery / event.
- ``health()``: cheap status for the operator's catalog.
- ``run_scheduled(name)``: one tick of a manifest schedule (exactly once per tick).
- ``run_job(job)`` (a class method, not a hook): runs a background job in a Ray worker.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import PermanentError, PluginConfigInvalid
from plugin_sdk.context import PluginContext
from plugin_sdk.events import Event, WebhookDelivery
from plugin_sdk.jobs import JobRun
from plugin_sdk.manifest import Manifest

MANIFEST_FILE = "manifest.json"


class HealthStatus(StrEnum):
    """Health of one plugin instance."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


class Health(BaseModel):
    """Result of ``Plugin.health()``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: HealthStatus = HealthStatus.OK
    detail: str = ""


class EmptyConfig(BaseModel):
    """Config model of a plugin that takes no configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ConfigT = TypeVar("ConfigT", bound=BaseModel)


class Plugin(Generic[ConfigT]):
    """Base class of every plugin; override the hooks you need (all async)."""

    config_model: ClassVar[type[BaseModel]] = EmptyConfig
    """Pydantic model of the tenant config (``config.py``); ``self.config`` is an instance."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx

    @cached_property
    def config(self) -> ConfigT:
        """The tenant config parsed by ``config_model`` (``PluginConfigInvalid`` if it fails)."""
        try:
            return self.config_model.model_validate(dict(self.ctx.config))  # type: ignore[return-value]
        except ValidationError as err:
            raise PluginConfigInvalid(
                f"config of {self.ctx.manifest.name!r} does not fit its config model: {err}"
            ) from err

    @classmethod
    def manifest_path(cls) -> Path:
        """Where this class's manifest is: ``manifest.json`` beside the module defining it."""
        module = sys.modules[cls.__module__]
        if getattr(module, "__file__", None) is None:
            raise FileNotFoundError(f"module {cls.__module__!r} has no file; no manifest beside it")
        return Path(str(module.__file__)).resolve().parent / MANIFEST_FILE

    @classmethod
    def load_manifest(cls) -> Manifest:
        """Read and validate the manifest beside this class's module."""
        return Manifest.from_file(cls.manifest_path())

    # --- lifecycle ------------------------------------------------------------------------------
    async def configure(self) -> None:
        """Check ``self.ctx.config`` / ``secrets`` against the external system where possible."""

    async def install(self) -> None:
        """Create what this instance needs remotely (once, after the first ``configure``)."""

    async def enable(self) -> None:
        """Start processing (deliveries arrive only while enabled)."""

    async def disable(self) -> None:
        """Stop processing."""

    async def uninstall(self) -> None:
        """Remove what ``install`` created."""

    async def upgrade(self, from_version: str, old_config: dict[str, Any]) -> dict[str, Any]:
        """Turn the config of ``from_version`` into this version's config (default: unchanged)."""
        return old_config

    # --- work -----------------------------------------------------------------------------------
    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        """Process one verified webhook delivery (capability ``webhooks``)."""
        raise PermanentError(f"plugin {self.ctx.manifest.name!r} does not handle webhooks")

    async def handle_event(self, event: Event) -> None:
        """Process one event from the bus (capability ``events``)."""
        raise PermanentError(f"plugin {self.ctx.manifest.name!r} does not handle events")

    async def health(self) -> Health:
        """Cheap health check of this instance."""
        return Health()

    async def run_scheduled(self, name: str) -> None:
        """One tick of the manifest schedule ``name`` (default: nothing)."""

    @classmethod
    def run_job(cls, job: JobRun) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        """Run one background job of a kind the manifest declares; return a JSON result.

        Runs in a Ray worker process (not the tenant host): no ``self``, no ``PluginContext``;
        ``job.payload`` and ``job.config`` are its input, ``job.progress(f)`` reports progress.
        May be ``async def`` (it then runs in its own event loop and may use its instance's
        ``job.store`` and ``job.http``). Raising fails the job.
        """
        raise PermanentError(f"plugin {cls.__name__} runs no background jobs")


HOOKS: tuple[str, ...] = (
    "configure",
    "install",
    "enable",
    "disable",
    "uninstall",
    "upgrade",
    "handle_webhook",
    "handle_event",
    "health",
    "run_scheduled",
)
"""Every lifecycle hook; all are coroutine functions with the base class's parameters."""
