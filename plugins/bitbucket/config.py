"""Tenant config of one Bitbucket Cloud workspace or Data Center server (an instance).

``python -m plugins.bitbucket.config`` prints the schema that ``manifest.json`` must carry; a
test fails when the two drift. The review defaults (``review``) have the same keys as a
repository's ``.dcoder/review.yaml``, which is merged over them (see ``repo_settings``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from plugins.bitbucket.events import RepoRef
from plugins.bitbucket.repo_settings import ReviewSettings

CLOUD_API = "https://api.bitbucket.org"
URL = r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$"
RepoName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.~-]+/[A-Za-z0-9_.-]+$")]
ProjectKey = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,9}$")]


class BitbucketConfig(BaseModel):
    """What a tenant fills in (credentials are set through the platform's auth API)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deployment: Literal["cloud", "dc"] = Field(
        "cloud", description="cloud (Bitbucket Cloud, REST 2.0) or dc (Data Center, REST 1.0)"
    )
    base_url: str | None = Field(
        None,
        pattern=URL,
        max_length=300,
        description="API root: https://api.bitbucket.org for Cloud (the default), the server's "
        "URL for Data Center (required there)",
    )
    repositories: list[RepoName] = Field(
        default_factory=list,
        max_length=500,
        description="workspace/slug (Cloud) or PROJECT/slug (DC) the agent reviews; empty: every "
        "repository whose webhook reaches it",
    )
    agent_handles: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="extra names the agent answers to in comments (its own account is found by "
        "configure)",
    )
    review: ReviewSettings = Field(
        default_factory=ReviewSettings,
        description="review defaults; a repository's .dcoder/review.yaml on the base branch is "
        "merged over them",
    )
    suggestion_blocks: bool = Field(
        True,
        description="write ```suggestion blocks (turn off for servers that do not render them)",
    )
    use_llm: bool = Field(True, description="ask the configured LLM; analyzers alone when false")
    llm_min_confidence: float = Field(
        0.6, ge=0, le=1, description="LLM findings below this confidence are not posted"
    )
    llm_chunk_tokens: int = Field(
        12000, ge=1000, le=200000, description="diff tokens per LLM call at most"
    )
    llm_total_tokens: int = Field(
        60000, ge=1000, le=2000000, description="diff tokens per review at most (the rest listed)"
    )
    llm_timeout_s: float = Field(90.0, gt=0, le=600, description="wall time of one LLM call")
    llm_max_tokens: int = Field(2000, ge=200, le=16000, description="token budget of one answer")
    jira_projects: list[ProjectKey] = Field(
        default_factory=list,
        max_length=100,
        description="Jira project keys to look for in branches, titles and commits; empty: any "
        "key-shaped text except well-known look-alikes (UTF-8, ISO-8601, ...)",
    )

    @model_validator(mode="after")
    def _dc_needs_its_url(self) -> Self:
        if self.deployment == "dc" and self.base_url is None:
            raise ValueError("a Data Center instance needs base_url (the server's URL)")
        return self

    @property
    def api_url(self) -> str:
        """Where the REST API is."""
        return (self.base_url or CLOUD_API).rstrip("/")

    def watches(self, repo: RepoRef) -> bool:
        """Whether the agent reviews ``repo`` (case-insensitive, as Bitbucket compares names)."""
        wanted = {r.lower() for r in self.repositories}
        return not wanted or repo.full_name.lower() in wanted

    def repo_refs(self) -> list[RepoRef]:
        """The configured repositories."""
        return [RepoRef(owner=r.split("/")[0], slug=r.split("/")[1]) for r in self.repositories]


def config_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of ``BitbucketConfig`` as the manifest carries it."""
    schema = BitbucketConfig.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


if __name__ == "__main__":
    print(json.dumps(config_schema(), indent=2))
