"""Contract conformance: check a simulator response against the official OpenAPI specs.

``assert_conforms("jira-platform-v3.swagger-v3.v3.json", "get", "/rest/api/3/myself", 200, body)``
validates ``body`` against the response schema of that operation. Specs are large, so each is
loaded once per process. The directory is ``Settings.contracts_dir``; tests skip (with the reason)
only when it is absent.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30ReadValidator

from core.settings import Settings

JIRA = "jira-platform-v3.swagger-v3.v3.json"
AGILE = "jira-software-agile.swagger.v3.json"
CONFLUENCE_V1 = "confluence-cloud-v1.swagger.v3.json"
CONFLUENCE_V2 = "confluence-cloud-v2.openapi-v2.v3.json"


def specs_dir() -> Path:
    """Where the official specs are (``<contracts_dir>/specs``)."""
    return Settings().contracts_dir / "specs"


def require_specs() -> None:
    """Skip the calling test, with the reason, when the contracts are not on this machine."""
    if not specs_dir().is_dir():
        pytest.skip(f"official API specs not present at {specs_dir()} (Settings.contracts_dir)")


@cache
def load_spec(spec_name: str) -> dict[str, Any]:
    """The parsed spec (cached for the whole test session)."""
    spec: dict[str, Any] = json.loads((specs_dir() / spec_name).read_text())
    return spec


def response_schema(spec_name: str, method: str, path: str, status: int) -> dict[str, Any]:
    """The JSON schema of one documented response, with the spec's components for ``$ref``."""
    spec = load_spec(spec_name)
    operation = spec["paths"].get(path, {}).get(method.lower())
    if operation is None:
        raise AssertionError(f"{spec_name} documents no {method.upper()} {path}")
    responses = operation["responses"]
    response = responses.get(str(status)) or responses.get("default")
    if response is None:
        raise AssertionError(
            f"{method.upper()} {path} documents no {status} (has {sorted(responses)})"
        )
    content = response.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), {})
    return {**media.get("schema", {}), "components": spec.get("components", {})}


def assert_conforms(spec_name: str, method: str, path: str, status: int, body: Any) -> None:
    """Fail with every schema violation when ``body`` does not match the documented response."""
    schema = response_schema(spec_name, method, path, status)
    errors = sorted(OAS30ReadValidator(schema).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        lines = [
            f"  at {'/'.join(map(str, e.path)) or '<root>'}: {e.message[:300]}" for e in errors[:15]
        ]
        raise AssertionError(
            f"{method.upper()} {path} -> {status} violates {spec_name}:\n" + "\n".join(lines)
        )
