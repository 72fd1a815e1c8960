"""Validation of a tenant's config and secrets against a plugin's manifest.

Failures raise ``core.errors.ValidationFailed`` whose ``errors`` point at each failing field with a
JSON pointer (``{"pointer": "/project_key", "message": ..., "keyword": "required"}``); the HTTP API
returns it as a 422 problem document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaViolation

from core.errors import ValidationFailed
from plugin_sdk.manifest import Manifest


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + _escape(str(p)) for p in parts)


def _entry(path: list[Any], message: str, keyword: str) -> dict[str, str]:
    return {"pointer": _pointer(path), "message": message, "keyword": keyword}


def _describe(error: SchemaViolation) -> list[dict[str, str]]:
    """One entry per failing field; ``required`` / ``additionalProperties`` name the property."""
    base = list(error.absolute_path)
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    if error.validator == "required":
        missing = [p for p in error.validator_value if p not in instance]
        return [_entry([*base, p], f"{p!r} is required", "required") for p in missing]
    if error.validator == "additionalProperties" and error.validator_value is False:
        allowed = set(error.schema.get("properties", {}))
        patterns = error.schema.get("patternProperties", {})
        extra = [p for p in instance if p not in allowed and not patterns]
        if extra:
            return [
                _entry([*base, p], f"{p!r} is not an allowed field", "additionalProperties")
                for p in extra
            ]
    return [_entry(base, error.message, str(error.validator))]


def config_errors(schema: Mapping[str, Any], config: Any) -> list[dict[str, str]]:
    """Every violation of ``schema`` by ``config``, sorted by pointer."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [item for err in validator.iter_errors(config) for item in _describe(err)]
    return sorted(errors, key=lambda e: (e["pointer"], e["keyword"]))


def validate_config(manifest: Manifest, config: Any) -> dict[str, Any]:
    """Return ``config`` if it fits the manifest's ``config_schema``; else ``ValidationFailed``."""
    if isinstance(config, Mapping):  # e.g. a context's read-only mappingproxy
        config = dict(config)
    errors = config_errors(manifest.config_schema, config)
    if errors:
        fields = ", ".join(e["pointer"] or "/" for e in errors)
        raise ValidationFailed(f"config of plugin {manifest.name!r} is invalid at {fields}", errors)
    return config


def validate_secrets(manifest: Manifest, secrets: Mapping[str, str]) -> None:
    """Check required secrets are given and no undeclared ones (else ``ValidationFailed``)."""
    declared = {s.name: s for s in manifest.secrets}
    errors = [
        {"pointer": f"/{name}", "message": f"secret {name!r} is required", "keyword": "required"}
        for name, field in declared.items()
        if field.required and not secrets.get(name)
    ]
    errors += [
        {"pointer": f"/{name}", "message": f"{name!r} is not a declared secret", "keyword": "extra"}
        for name in secrets
        if name not in declared
    ]
    if errors:
        fields = ", ".join(e["pointer"] for e in sorted(errors, key=lambda e: e["pointer"]))
        detail = f"secrets of plugin {manifest.name!r} are invalid at {fields}"
        raise ValidationFailed(detail, errors)
