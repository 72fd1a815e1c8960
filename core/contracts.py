"""Pydantic models that cross a boundary (API ↔ tenant actors): lifecycle requests and views.

Request models are strict: ``"yes"`` is not a boolean and ``"60"`` not a number (a lenient guess
can do harm, e.g. rotate keys nobody meant to rotate).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.instances import InstanceRecord


class CreateInstance(BaseModel):
    """Install a plugin for a tenant."""

    model_config = ConfigDict(extra="forbid", strict=True)

    plugin: str = Field(description="plugin name from the catalog")
    version: str | None = Field(None, description="catalog version to pin; latest when omitted")
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="instance name, unique per tenant"
    )
    config: dict[str, Any] = Field(
        default_factory=dict, description="validated against config_schema"
    )
    secrets: dict[str, str] = Field(
        default_factory=dict, description="write-only; stored encrypted"
    )


class UpdateInstance(BaseModel):
    """Change an instance's config and/or secrets (validated before anything is stored)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    config: dict[str, Any] | None = None
    secrets: dict[str, str] | None = Field(None, description="only the named secrets change")
    secret_overlap_s: int | None = Field(
        None, ge=0, le=30 * 86400,
        description="keep accepting replaced webhook secrets for this many seconds",
    )  # fmt: skip


class UpgradeInstance(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: str | None = Field(None, description="target version; latest when omitted")


class InstanceView(InstanceRecord):
    """An instance as the API shows it: never any secret value, only the names that are set."""

    secrets_set: list[str]


class InstanceHealth(BaseModel):
    instance_id: str
    state: str
    status: str
    detail: str | None = None
    breakers: dict[str, Any] = Field(default_factory=dict)
