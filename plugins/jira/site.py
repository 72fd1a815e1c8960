"""What ``configure`` learnt about the site, kept in the instance store (hooks and jobs read it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .mentions import AgentIdentity
from .story import FieldIds

SITE_KEY = "site"


class Site(BaseModel):
    """The agent's account, the discovered fields and the site's version."""

    model_config = ConfigDict(frozen=True)

    agent: AgentIdentity
    agent_name: str
    fields: FieldIds
    deployment_type: str
    version: str
