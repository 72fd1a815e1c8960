from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from plugin_sdk import Event, Manifest, Plugin, PluginValidationError, WebhookDelivery
from plugin_sdk.validation import verify_plugin, verify_plugin_class

WEBHOOK_MANIFEST = Manifest.model_validate(
    {
        "name": "hooky",
        "version": "1.0.0",
        "sdk_api": ">=1.0,<2",
        "description": "d",
        "capabilities": ["webhooks", "events"],
        "webhook": {"scheme": "none"},
        "events": {"consumes": ["review.completed"]},
    }
)


class Good(Plugin[Any]):
    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        pass

    async def handle_event(self, event: Event) -> None:
        pass


def why(cls: Any, manifest: Manifest = WEBHOOK_MANIFEST) -> str:
    with pytest.raises(PluginValidationError) as caught:
        verify_plugin_class(cls, manifest)
    assert caught.value.plugin == manifest.name
    return caught.value.why


def test_good_plugin_passes() -> None:
    assert verify_plugin_class(Good, WEBHOOK_MANIFEST) is Good


def test_sync_hook_is_refused() -> None:
    class SyncEnable(Good):
        def enable(self) -> None:  # type: ignore[override]
            pass

    assert why(SyncEnable) == "hook 'enable' must be 'async def'"


def test_wrong_hook_signature_is_refused() -> None:
    class WrongArgs(Good):
        async def upgrade(self, old_config: dict[str, Any]) -> dict[str, Any]:  # type: ignore[override]
            return old_config

    assert why(WrongArgs) == "hook 'upgrade' must take (from_version, old_config), not (old_config)"


def test_missing_handlers_for_declared_capabilities() -> None:
    class NoWebhook(Plugin[Any]):
        async def handle_event(self, event: Event) -> None:
            pass

    class NoEvent(Plugin[Any]):
        async def handle_webhook(self, delivery: WebhookDelivery) -> None:
            pass

    assert why(NoWebhook) == "capability 'webhooks' needs a handle_webhook hook"
    assert why(NoEvent) == "events.consumes needs a handle_event hook"


def test_not_a_plugin_and_bad_config_model() -> None:
    class Bare:
        pass

    class BadModel(Good):
        config_model = dict  # type: ignore[assignment]

    assert "is not a subclass of plugin_sdk.Plugin" in why(Bare)
    assert "is not a subclass" in why(Plugin)
    assert why(BadModel) == "config_model must be a pydantic BaseModel subclass"


def test_sdk_range_must_include_this_sdk() -> None:
    manifest = WEBHOOK_MANIFEST.model_copy(update={"sdk_api": ">=2,<3"})
    assert "does not include this SDK's API 1.0" in why(Good, manifest)


def test_manifest_must_sit_beside_the_module() -> None:
    with pytest.raises(PluginValidationError, match="no manifest.json beside its module"):
        verify_plugin(Good)


def test_pydantic_config_model_is_accepted() -> None:
    class Cfg(BaseModel):
        a: int = 1

    class WithModel(Good):
        config_model = Cfg

    assert verify_plugin_class(WithModel, WEBHOOK_MANIFEST) is WithModel
