"""FastAPI dependencies and parameter types shared by the routers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Request
from pydantic import BeforeValidator

from serve_app.services import Services


async def services(request: Request) -> Services:
    """The replica's services."""
    result: Services = request.app.state.services
    return result


def _not_a_number(value: object) -> object:
    # pydantic reads a number as Unix seconds ("0.5" → 1970); the API documents ISO 8601 only.
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("expected an ISO 8601 date-time, not a number")
    return value


IsoDateTime = Annotated[dt.datetime, BeforeValidator(_not_a_number)]
"""A date-time parameter that refuses numbers (OpenAPI: string, format date-time)."""
