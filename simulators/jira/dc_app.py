"""The Jira Data Center simulator: the Jira simulator in its ``dc`` flavour, mounted at /jira-dc.

Same issues, JQL, agile API and webhooks as the Cloud one, but REST v2 only (v3 and
``search/jql`` answer 404), users named by ``name`` / ``key`` (mentions ``[~username]``),
``deploymentType: Server``; personal access tokens (``Bearer <PAT>``) and basic auth both work.
"""

from __future__ import annotations

from fastapi import FastAPI

from simulators.config import SimulatorConfig
from simulators.jira import app as jira_app
from simulators.jira.state import JiraState

MOUNT = "/jira-dc"


def create_app(config: SimulatorConfig) -> FastAPI:
    """A Data Center site (mount it at ``/jira-dc``)."""
    return jira_app.create_app(config, JiraState(config, flavour="dc", mount=MOUNT))
