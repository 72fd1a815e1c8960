"""The caller of a Jira request as a FastAPI dependency (the app keeps its state in app.state)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from simulators.auth import Principal, require_auth
from simulators.jira.errors import JiraError


def current_principal(request: Request) -> Principal:
    """The authenticated account making this request."""
    return require_auth(request.app.state.jira.config)(request)


Who = Annotated[Principal, Depends(current_principal)]


def data_center_paths(request: Request) -> None:
    """Data Center has no REST v3 and no ``search/jql``: answer 404 as it does."""
    path = request.url.path
    if "/rest/api/3/" in path or path.rstrip("/").endswith("/search/jql"):
        raise JiraError(404, "null for uri: " + str(request.url))
