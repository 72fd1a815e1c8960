"""Tenant config of generic-webhook (mirrors the manifest's config_schema)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

POINTER_RE = r"^(/([^~/]|~[01])*)+$"


class GenericWebhookConfig(BaseModel):
    """Which subject to publish under and which payload fields to keep."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Only 'generic.*' subjects: a tenant's connector must not impersonate platform events
    # such as 'review.completed'.
    event_type: str = Field(
        default="generic.received", pattern=r"^generic(\.[a-z0-9][a-z0-9_-]*)+$"
    )
    fields: list[str] | None = Field(default=None, description="JSON pointers to keep")

    @field_validator("fields")
    @classmethod
    def _pointers(cls, value: list[str] | None) -> list[str] | None:
        for pointer in value or []:
            if not re.match(POINTER_RE, pointer):
                raise ValueError(f"{pointer!r} is not a JSON pointer like '/issue/key'")
        return value
