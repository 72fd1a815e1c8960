"""sample-plugin: counts review events per project."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from plugin_sdk import Event, Health, HealthStatus, Plugin, PluginAuthFailed, PluginConfigInvalid


class SampleConfig(BaseModel):
    """Config of sample-plugin."""

    project_key: str


class SamplePlugin(Plugin[SampleConfig]):
    """Counts review events; version 2 renamed config key 'project' to 'project_key'."""

    config_model = SampleConfig

    async def configure(self) -> None:
        if self.ctx.secrets["api_token"] == "revoked":
            raise PluginAuthFailed("token revoked")
        if self.config.project_key == "NOPE":
            raise PluginConfigInvalid("project NOPE does not exist")

    async def install(self) -> None:
        await self.ctx.store.set("installed", True)

    async def uninstall(self) -> None:
        await self.ctx.store.delete("installed")

    async def upgrade(self, from_version: str, old_config: dict[str, Any]) -> dict[str, Any]:
        if from_version.startswith("1."):
            return {"project_key": old_config["project"]}
        return old_config

    async def handle_event(self, event: Event) -> None:
        count = (await self.ctx.store.get("count") or 0) + 1
        await self.ctx.store.set("count", count)
        await self.ctx.publish(
            "sample.counted",
            {"count": count, "project": self.config.project_key},
            correlation_id=event.correlation_id,
        )

    async def health(self) -> Health:
        installed = await self.ctx.store.get("installed")
        return Health(status=HealthStatus.OK if installed else HealthStatus.DEGRADED)
