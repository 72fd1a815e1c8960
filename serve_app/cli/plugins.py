"""Subcommands of this group are added by the issue that builds them."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands (none yet)."""
