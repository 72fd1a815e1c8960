"""Generated passwords of the embedded servers: one random value per file, mode 0600.

The file is created on first use by whichever side asks first (the server before it starts, or a
client building its URL), atomically, so concurrent callers read the same value.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def read_or_create_password(path: Path) -> str:
    """The password kept in ``path``; a new random one (URL-safe, 256 bits) when there is none."""
    existing = _read(path)
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(temp, path)  # fails if another process created it first: theirs wins
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    value = _read(path)
    if not value:
        raise OSError(f"{path} is empty")
    return value


def _read(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_IMODE(mode) & 0o077:
        # Older copies or a careless restore: nobody else on the host may read it.
        with contextlib.suppress(PermissionError):
            path.chmod(0o600)
    return path.read_text().strip() or None
