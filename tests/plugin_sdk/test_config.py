from __future__ import annotations

from typing import Any

import pytest

from plugin_sdk import Manifest, ValidationFailed, validate_config, validate_secrets

MANIFEST = Manifest.model_validate(
    {
        "name": "acme",
        "version": "1.0.0",
        "sdk_api": ">=1.0,<2",
        "description": "d",
        "secrets": [{"name": "api_token"}, {"name": "extra", "required": False}],
        "config_schema": {
            "type": "object",
            "properties": {
                "project_key": {"type": "string", "pattern": "^[A-Z]+$"},
                "since": {"type": "string", "format": "date"},
                "labels": {"type": "array", "items": {"type": "string"}},
                "nested": {
                    "type": "object",
                    "properties": {"a/b": {"type": "integer"}},
                    "required": ["a/b"],
                },
            },
            "required": ["project_key"],
            "additionalProperties": False,
        },
    }
)


def pointers(config: Any) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        validate_config(MANIFEST, config)
    assert caught.value.status == 422
    return [e["pointer"] for e in caught.value.extra["errors"]]


def test_valid_config_is_returned() -> None:
    config = {"project_key": "ABC", "since": "2025-01-31", "labels": ["a"]}
    assert validate_config(MANIFEST, config) == config


def test_errors_point_at_the_failing_fields() -> None:
    assert pointers({}) == ["/project_key"]
    assert pointers({"project_key": "abc"}) == ["/project_key"]
    assert pointers({"project_key": "A", "labels": ["x", 3]}) == ["/labels/1"]
    assert pointers({"project_key": "A", "colour": "red"}) == ["/colour"]
    assert pointers({"project_key": "A", "nested": {}}) == ["/nested/a~1b"]
    assert pointers({"project_key": "A", "since": "31/01/2025"}) == ["/since"]


def test_problem_document_lists_errors() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_config(MANIFEST, {})
    problem = caught.value.problem()
    assert problem["status"] == 422
    assert problem["errors"][0] == {
        "pointer": "/project_key",
        "message": "'project_key' is required",
        "keyword": "required",
    }


def test_secrets_required_and_declared() -> None:
    validate_secrets(MANIFEST, {"api_token": "t"})
    with pytest.raises(ValidationFailed) as caught:
        validate_secrets(MANIFEST, {"api_token": "", "stray": "x"})
    assert [e["pointer"] for e in caught.value.extra["errors"]] == ["/api_token", "/stray"]
