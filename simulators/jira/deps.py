"""The caller of a Jira request as a FastAPI dependency (the app keeps its state in app.state)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from simulators.auth import Principal, require_auth


def current_principal(request: Request) -> Principal:
    """The authenticated account making this request."""
    return require_auth(request.app.state.jira.config)(request)


Who = Annotated[Principal, Depends(current_principal)]
