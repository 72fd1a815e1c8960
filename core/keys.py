"""Key material: the operator API key and the secrets keys, from settings or from the data dir.

A key set in the environment always wins; otherwise the key lives in a file under the data dir,
generated on first start with mode 0600. Key values are never logged or printed; callers get
``KeyOrigin`` to describe where a key came from.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from core.crypto import KEY_BYTES
from core.errors import SecretKeyError
from core.settings import Settings

OPERATOR_KEY_FILE = "operator.key"
SECRETS_KEY_FILE = "secrets.key"
OPERATOR_KEY_ENV = "DCODER_OPERATOR_KEY"
SECRETS_KEY_ENV = "DCODER_SECRETS_KEY"
FILE_MODE = 0o600


@dataclass(frozen=True)
class KeyOrigin:
    """Where a key came from: an environment variable, or a file (maybe generated just now)."""

    env: str | None
    path: Path | None
    generated: bool = False

    def describe(self) -> str:
        """One line for humans, without the key."""
        if self.env:
            return f"from {self.env}"
        state = "generated now" if self.generated else "existing"
        return f"{self.path} ({state}; mode {FILE_MODE:04o})"


def operator_key_path(settings: Settings) -> Path:
    """File of the operator key when it is not set in the environment."""
    return settings.data_dir / OPERATOR_KEY_FILE


def secrets_key_path(settings: Settings) -> Path:
    """File of the secrets keys when they are not set in the environment."""
    return settings.data_dir / SECRETS_KEY_FILE


def operator_key(settings: Settings, *, create: bool) -> str:
    """The operator API key; with ``create``, generate its file on first start."""
    return load_operator_key(settings, create=create)[0]


def load_operator_key(settings: Settings, *, create: bool) -> tuple[str, KeyOrigin]:
    """The operator API key and where it came from."""
    configured = settings.security.operator_key
    if configured is not None:
        return configured.get_secret_value(), KeyOrigin(OPERATOR_KEY_ENV, None)
    path = operator_key_path(settings)
    generated = _create_if_missing(path, secrets.token_urlsafe(32) + "\n") if create else False
    value = _read_key_file(path).strip()
    if not value:
        raise SecretKeyError(f"operator key file {path} is empty")
    return value, KeyOrigin(None, path, generated)


def secrets_keys(settings: Settings, *, create: bool) -> list[bytes]:
    """The secrets keys, newest first; with ``create``, generate their file on first start."""
    return load_secrets_keys(settings, create=create)[0]


def load_secrets_keys(settings: Settings, *, create: bool) -> tuple[list[bytes], KeyOrigin]:
    """The secrets keys (newest first) and where they came from."""
    configured = settings.security.secrets_key
    if configured is not None:
        parts = [p for p in configured.get_secret_value().split(",") if p.strip()]
        keys = [_decode_key(p, f"{SECRETS_KEY_ENV} entry {i + 1}") for i, p in enumerate(parts)]
        if not keys:
            raise SecretKeyError(f"{SECRETS_KEY_ENV} is set but holds no key")
        return keys, KeyOrigin(SECRETS_KEY_ENV, None)
    path = secrets_key_path(settings)
    generated = _create_if_missing(path, _encode_keys([_new_key()])) if create else False
    return _read_secrets_file(path), KeyOrigin(None, path, generated)


def add_secrets_key(settings: Settings) -> bytes:
    """Prepend a new newest key to the secrets key file; return it."""
    path = _managed_secrets_file(settings, "add a key")
    existing = _read_secrets_file(path) if path.exists() else []
    key = _new_key()
    _write_atomically(path, _encode_keys([key, *existing]))
    return key


def drop_old_secrets_keys(settings: Settings) -> int:
    """Keep only the newest key in the secrets key file; return how many keys were removed."""
    path = _managed_secrets_file(settings, "drop old keys")
    keys = _read_secrets_file(path)
    _write_atomically(path, _encode_keys(keys[:1]))
    return len(keys) - 1


def _managed_secrets_file(settings: Settings, action: str) -> Path:
    if settings.security.secrets_key is not None:
        raise SecretKeyError(
            f"cannot {action}: the secrets keys come from {SECRETS_KEY_ENV}; edit that variable "
            "(new key first, comma-separated) and restart instead"
        )
    return secrets_key_path(settings)


def _new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _encode_keys(keys: list[bytes]) -> str:
    return "".join(base64.b64encode(key).decode() + "\n" for key in keys)


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise SecretKeyError(f"{where} is not valid base64") from err
    if len(key) != KEY_BYTES:
        raise SecretKeyError(f"{where} must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def _read_secrets_file(path: Path) -> list[bytes]:
    lines = [line for line in _read_key_file(path).splitlines() if line.strip()]
    keys = [_decode_key(line, f"{path} line {i + 1}") for i, line in enumerate(lines)]
    if not keys:
        raise SecretKeyError(f"secrets key file {path} holds no key")
    return keys


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError as err:
        raise SecretKeyError(f"key file {path} missing (run `dcoder-integrations up`)") from err


def _create_if_missing(path: Path, content: str) -> bool:
    """Create a 0600 key file; False when it exists (another process may have won a race)."""
    if path.exists():
        return False
    temp = _write_temp(path, content)
    try:
        os.link(temp, path)  # atomic and exclusive: readers never see a half-written key
    except FileExistsError:
        return False
    finally:
        temp.unlink()
    return True


def _write_atomically(path: Path, content: str) -> None:
    """Replace ``path`` in one rename, so a crash never leaves a half-written key file."""
    temp = _write_temp(path, content)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _write_temp(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return temp
