"""Key files: generated once with mode 0600, environment wins, add/drop, refusals."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.crypto import KEY_BYTES, key_id_of
from core.errors import SecretKeyError
from core.keys import (
    add_secrets_key,
    drop_old_secrets_keys,
    operator_key,
    secrets_key_path,
    secrets_keys,
)
from core.settings import SecuritySettings, Settings
from serve_app.launcher.keys import ensure_keys


@pytest.fixture(autouse=True)
def _no_keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DCODER_OPERATOR_KEY", raising=False)
    monkeypatch.delenv("DCODER_SECRETS_KEY", raising=False)


def _settings(
    data_dir: Path, *, operator_key: str | None = None, secrets_key: str | None = None
) -> Settings:
    security = SecuritySettings(
        operator_key=SecretStr(operator_key) if operator_key else None,
        secrets_key=SecretStr(secrets_key) if secrets_key else None,
    )
    return Settings(data_dir=data_dir, security=security)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_on_first_start_with_mode_0600(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "new" / "data")
    lines = ensure_keys(settings)
    operator_file = settings.data_dir / "operator.key"
    assert _mode(operator_file) == 0o600 and _mode(secrets_key_path(settings)) == 0o600
    assert "generated now" in lines[0] and str(operator_file) in lines[0]
    key = operator_key(settings, create=False)
    keys = secrets_keys(settings, create=False)
    assert len(key) >= 43 and len(keys) == 1 and len(keys[0]) == KEY_BYTES
    assert all(key not in line and base64.b64encode(keys[0]).decode() not in line for line in lines)
    again = ensure_keys(settings)
    assert "existing" in again[0] and operator_key(settings, create=True) == key
    assert secrets_keys(settings, create=True) == keys


def test_missing_without_create_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="missing"):
        operator_key(_settings(tmp_path), create=False)
    with pytest.raises(SecretKeyError, match="missing"):
        secrets_keys(_settings(tmp_path), create=False)


def test_environment_wins_and_writes_no_file(tmp_path: Path) -> None:
    new, old = os.urandom(KEY_BYTES), os.urandom(KEY_BYTES)
    encoded = f"{base64.b64encode(new).decode()}, {base64.b64encode(old).decode()}"
    settings = _settings(tmp_path, operator_key="op-key-from-env", secrets_key=encoded)
    lines = ensure_keys(settings)
    assert lines[0] == "operator key: from DCODER_OPERATOR_KEY"
    assert lines[1].startswith("secrets key: from DCODER_SECRETS_KEY; 2 key(s)")
    assert key_id_of(new) in lines[1] and "op-key-from-env" not in "".join(lines)
    assert operator_key(settings, create=True) == "op-key-from-env"
    assert secrets_keys(settings, create=True) == [new, old]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SecretKeyError, match="DCODER_SECRETS_KEY"):
        add_secrets_key(settings)
    with pytest.raises(SecretKeyError, match="DCODER_SECRETS_KEY"):
        drop_old_secrets_keys(settings)


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"too short").decode(), " , "])
def test_bad_environment_key_refused_without_echoing_it(tmp_path: Path, value: str) -> None:
    with pytest.raises(SecretKeyError) as caught:
        secrets_keys(_settings(tmp_path, secrets_key=value), create=True)
    assert "DCODER_SECRETS_KEY" in caught.value.detail
    assert value.strip(" ,") == "" or value not in caught.value.detail


def test_add_prepends_and_drop_keeps_newest(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = secrets_keys(settings, create=True)[0]
    added = add_secrets_key(settings)
    assert secrets_keys(settings, create=False) == [added, first]
    assert _mode(secrets_key_path(settings)) == 0o600
    assert drop_old_secrets_keys(settings) == 1
    assert secrets_keys(settings, create=False) == [added]
    assert _mode(secrets_key_path(settings)) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.key"]  # no temp files left


def test_corrupt_key_file_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    secrets_key_path(settings).write_text("garbage\n")
    with pytest.raises(SecretKeyError, match="line 1"):
        secrets_keys(settings, create=True)
