"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from fastapi import Request

from serve_app.services import Services


async def services(request: Request) -> Services:
    """The replica's services."""
    result: Services = request.app.state.services
    return result
