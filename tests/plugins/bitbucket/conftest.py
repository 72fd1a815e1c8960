"""The combined simulator (one per session, real HTTP on a free port) and the shared contracts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from core.settings import Settings
from tests.simulators.conftest import SimServer, sim

__all__ = ["SimServer", "contract", "sim"]


def contract(product: str, name: str) -> dict[str, Any]:
    """A real webhook capture from ../shared/contracts (a deep copy, free to edit)."""
    path = Settings().contracts_dir / "webhooks" / product / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"contracts not present at {path}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return copy.deepcopy(data)
