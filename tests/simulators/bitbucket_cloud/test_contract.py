"""Responses of the Cloud simulator validate against Atlassian's Bitbucket Cloud OpenAPI 3 spec."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator

from core.settings import load_settings
from tests.simulators.bitbucket_cloud.conftest import WS, Cloud, git


@cache
def _components() -> dict[str, Any]:
    spec = load_settings().contracts_dir / "specs" / "bitbucket-cloud-2.0.swagger.v3.json"
    if not spec.is_file():
        pytest.skip(f"shared contracts not present at {spec}")
    return {"components": json.loads(spec.read_text())["components"]}


# Where the real payloads (contracts/webhooks/bitbucket-cloud/pullrequest_created.json) contradict
# the published schema, reality wins: they carry these extra keys and null closed_by/merge_commit.
REAL_EXTRA_KEYS = {"type", "links", "statuses"}


def _real_world_deviation(error: ValidationError) -> bool:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        return set(error.instance) - allowed <= REAL_EXTRA_KEYS
    return error.instance is None and error.validator in {"nullable", "type"}


def assert_conforms(body: Any, schema_name: str) -> None:
    """Validate ``body`` against ``components.schemas[schema_name]`` (refs resolved)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}"} | _components()
    found = OAS30Validator(schema).iter_errors(body)
    errors = sorted((e for e in found if not _real_world_deviation(e)), key=str)
    assert not errors, f"{schema_name}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


def test_responses_conform_to_the_official_schemas(cloud: Cloud, pushed: Path) -> None:
    head = git(pushed, "rev-parse", "feature/x").strip()
    repo = f"/repositories/{WS}/shop"
    with cloud.client() as client:
        assert_conforms(client.get(repo).json(), "repository")
        created = client.post(
            repo + "/pullrequests",
            json={"title": "Contract", "source": {"branch": {"name": "feature/x"}}},
        )
        pr = created.json()
        assert_conforms(pr, "pullrequest")
        comment = client.post(
            f"{repo}/pullrequests/{pr['id']}/comments",
            json={"content": {"raw": "c"}, "inline": {"path": "app.py", "to": 1}},
        ).json()
        assert_conforms(comment, "pullrequest_comment")
        stats = client.get(f"{repo}/pullrequests/{pr['id']}/diffstat", follow_redirects=True)
        assert_conforms(stats.json(), "paginated_diffstats")
        assert_conforms(client.get(f"{repo}/pullrequests").json(), "paginated_pullrequests")
        report_url = f"{repo}/commit/{head}/reports/r1"
        report = client.put(report_url, json={"title": "T", "report_type": "BUG"}).json()
        assert_conforms(report, "report")
        [note] = client.post(
            report_url + "/annotations",
            json=[{"external_id": "n1", "annotation_type": "BUG", "summary": "s", "line": 1}],
        ).json()
        assert_conforms(note, "report_annotation")
        status = client.post(
            f"{repo}/commit/{head}/statuses/build",
            json={"key": "ci", "state": "SUCCESSFUL", "url": "http://ci/1"},
        ).json()
        assert_conforms(status, "commitstatus")
        hook = client.get(repo + "/hooks").json()["values"]
        if hook:
            assert_conforms(hook[0], "webhook_subscription")
