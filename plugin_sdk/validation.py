"""Fail-fast checks that a plugin class and its manifest match the contract (like pluggy's
``_verify_hook``). The registry and the test harness both call ``verify_plugin``.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel, ValidationError

from core.errors import PluginValidationError
from plugin_sdk.manifest import Capability, Manifest
from plugin_sdk.plugin import HOOKS, Plugin
from plugin_sdk.version import SDK_API_VERSION


def describe_validation_error(err: ValidationError) -> str:
    """One line per pydantic error: ``field.path: message``."""
    parts = []
    for item in err.errors():
        where = ".".join(str(p) for p in item["loc"]) or "manifest"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _params(func: Any) -> list[tuple[str, inspect._ParameterKind]]:
    params = list(inspect.signature(func).parameters.values())[1:]  # drop self
    return [(p.name, p.kind) for p in params]


def verify_hooks(name: str, cls: type[Plugin[Any]]) -> None:
    """Every hook is a coroutine function with the base class's parameters."""
    for hook in HOOKS:
        impl = getattr(cls, hook)
        if not inspect.iscoroutinefunction(impl):
            raise PluginValidationError(name, f"hook {hook!r} must be 'async def'")
        want, got = _params(getattr(Plugin, hook)), _params(impl)
        if want != got:
            expected = ", ".join(n for n, _ in want) or "no parameters"
            raise PluginValidationError(
                name, f"hook {hook!r} must take ({expected}), not ({', '.join(n for n, _ in got)})"
            )


def _overrides(cls: type, hook: str) -> bool:
    return getattr(cls, hook) is not getattr(Plugin, hook)


def verify_plugin_class(
    cls: Any, manifest: Manifest, *, sdk_version: str = SDK_API_VERSION
) -> type[Plugin[Any]]:
    """Check ``cls`` against ``manifest`` and the SDK; ``PluginValidationError`` if it fails."""
    name = manifest.name
    if not (isinstance(cls, type) and issubclass(cls, Plugin)) or cls is Plugin:
        raise PluginValidationError(name, f"{cls!r} is not a subclass of plugin_sdk.Plugin")
    if not manifest.supports_sdk(sdk_version):
        raise PluginValidationError(
            name, f"sdk_api {manifest.sdk_api!r} does not include this SDK's API {sdk_version}"
        )
    if not (isinstance(cls.config_model, type) and issubclass(cls.config_model, BaseModel)):
        raise PluginValidationError(name, "config_model must be a pydantic BaseModel subclass")
    verify_hooks(name, cls)
    if Capability.WEBHOOKS in manifest.capabilities and not _overrides(cls, "handle_webhook"):
        raise PluginValidationError(name, "capability 'webhooks' needs a handle_webhook hook")
    if manifest.events.consumes and not _overrides(cls, "handle_event"):
        raise PluginValidationError(name, "events.consumes needs a handle_event hook")
    return cls


def verify_plugin(
    cls: Any, *, sdk_version: str = SDK_API_VERSION, expected_name: str | None = None
) -> Manifest:
    """Read the manifest beside ``cls``, verify both; return the manifest.

    ``expected_name`` is the name the plugin must have (its folder or distribution).
    """
    label: str = expected_name or str(getattr(cls, "__qualname__", repr(cls)))
    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        raise PluginValidationError(label, f"{cls!r} is not a subclass of plugin_sdk.Plugin")
    try:
        manifest = cls.load_manifest()
    except FileNotFoundError as err:
        raise PluginValidationError(label, f"no manifest.json beside its module ({err})") from err
    except ValidationError as err:
        why = f"manifest.json invalid: {describe_validation_error(err)}"
        raise PluginValidationError(label, why) from err
    except ValueError as err:  # bad JSON
        raise PluginValidationError(label, f"manifest.json is not JSON: {err}") from err
    if expected_name is not None and manifest.name != expected_name:
        why = f"manifest name {manifest.name!r} does not match {expected_name!r}"
        raise PluginValidationError(label, why)
    verify_plugin_class(cls, manifest, sdk_version=sdk_version)
    return manifest
