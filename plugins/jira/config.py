"""Tenant config of one Jira site (an instance); the manifest's config_schema is generated here.

``python -m plugins.jira.config`` prints the schema that ``manifest.json`` must carry; a test
fails when the two drift.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PROJECT_KEY = r"^[A-Z][A-Z0-9_]{1,9}$"
FIELD_ID = r"^customfield_[0-9]+$"
ProjectKey = Annotated[str, StringConstraints(pattern=PROJECT_KEY)]


class JiraConfig(BaseModel):
    """What a tenant fills in for one Jira site (credentials are set through the auth API)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(
        pattern=r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$",
        max_length=300,
        description="the site, e.g. https://acme.atlassian.net or https://jira.example.com",
    )
    deployment: Literal["cloud", "dc"] = Field(
        "cloud", description="cloud (REST v3, ADF, account ids) or dc (Data Center: v2, wiki)"
    )
    projects: list[ProjectKey] = Field(
        default_factory=list,
        description="project keys the agent answers in and learns from; empty means all",
    )
    story_points_field: str | None = Field(
        None,
        pattern=FIELD_ID,
        description="override of the discovered story-points field (board estimation field)",
    )
    label: str | None = Field(
        "ai-estimated",
        pattern=r"^[^\s]{1,255}$",
        description="label added to estimated issues; null adds none",
    )
    set_story_points: bool = Field(True, description="write the estimate into the points field")
    min_history: int = Field(
        30, ge=5, le=10000, description="resolved stories with points needed before any number"
    )
    use_llm: bool = Field(True, description="ask the configured LLM; rules alone when false")
    llm_timeout_s: float = Field(
        20.0,
        gt=0,
        le=25,
        description="wall time the LLM may take for one mention, both attempts together "
        "(the mention is answered inside the 30 s hook)",
    )
    llm_max_tokens: int = Field(1500, ge=200, le=8000, description="token budget of one answer")
    oauth_site: str = Field(
        "https://auth.atlassian.com",
        pattern=r"^https?://[^\s/?#]+$",
        max_length=300,
        description="the OAuth 2.0 (3LO) authorization server (the simulator's URL in tests)",
    )
    service_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$",
        max_length=300,
        description="this service's public base URL; when set, install registers the site's "
        "comment_created webhook (Cloud) to <it>/v1/webhooks/<tenant>/<instance>",
    )


def config_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of ``JiraConfig`` as the manifest carries it."""
    schema = JiraConfig.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


if __name__ == "__main__":
    print(json.dumps(config_schema(), indent=2))
