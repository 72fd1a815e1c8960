"""Keys generated on first start when not configured: the operator key and the secrets keys."""

from __future__ import annotations

from core.crypto import SecretBox
from core.keys import load_operator_key, load_secrets_keys
from core.settings import Settings


def ensure_keys(settings: Settings) -> list[str]:
    """Make sure the operator and secrets keys exist; return lines to print (never a key)."""
    _, operator = load_operator_key(settings, create=True)
    keys, origin = load_secrets_keys(settings, create=True)
    box = SecretBox(keys)  # validates every key before the service starts on them
    return [
        f"operator key: {operator.describe()}",
        f"secrets key: {origin.describe()}; {len(keys)} key(s), newest id {box.newest_key_id}",
    ]
