"""Keys generated on first start when not configured (filled in by the plugin framework)."""

from __future__ import annotations

from core.settings import Settings


def ensure_keys(settings: Settings) -> list[str]:
    """Make sure the operator and secrets keys exist; return lines to print."""
    return []
