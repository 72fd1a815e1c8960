"""`secrets rotate-key` end to end: real key file, real PostgreSQL, in-process CLI."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.crypto import SecretBox
from core.db import Database
from core.keys import secrets_key_path, secrets_keys
from core.secret_store import SecretStore, count_not_under
from core.settings import Settings
from serve_app.cli.main import main
from tests.conftest import TestServices
from tests.core.test_secret_store import add_instance, drop_database, fresh_database

VALUES = {"api_token": "cli-PLAINTEXT-token", "webhook_secret": "cli-PLAINTEXT-webhook"}


@pytest.fixture
def env(
    test_services: TestServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """A data dir with a generated key, a fresh migrated database holding two secrets."""
    monkeypatch.delenv("DCODER_SECRETS_KEY", raising=False)  # keys live in the key file here
    db = asyncio.run(_seed(test_services.database_url, tmp_path))
    monkeypatch.setenv("DCODER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DCODER_DATABASE_URL", db.url)
    yield Settings()
    asyncio.run(drop_database(Database(db.url)))


async def _seed(server_url: str, data_dir: Path) -> Database:
    db = await fresh_database(server_url)
    await add_instance(db, "tenant-cli", "inst-cli")
    box = SecretBox(secrets_keys(Settings(data_dir=data_dir), create=True))
    store = SecretStore(db, box)
    await store.put("tenant-cli", "inst-cli", {"webhook_secret": "cli-old-webhook"})
    await store.put("tenant-cli", "inst-cli", VALUES, overlap_s=3600)
    await db.close()
    return db


async def _read(settings: Settings) -> tuple[dict[str, str], list[str], int]:
    db = Database(settings.database.url or "")
    box = SecretBox(secrets_keys(settings, create=False))
    store = SecretStore(db, box)
    try:
        return (
            await store.get("tenant-cli", "inst-cli"),
            await store.get_with_previous("tenant-cli", "inst-cli", "webhook_secret"),
            await count_not_under(db, box.newest_key_id),
        )
    finally:
        await db.close()


def test_rotate_key_rewraps_everything_and_prints_no_values(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    old_keys = secrets_keys(env, create=False)
    assert main(["secrets", "rotate-key"]) == 0
    out = capsys.readouterr().out
    assert "re-encrypted 3 ciphertext(s) of 2 secret(s)" in out
    assert not any(value in out for value in [*VALUES.values(), "cli-old-webhook"])
    keys = secrets_keys(env, create=False)
    assert keys[1:] == old_keys and len(keys) == 2
    assert stat.S_IMODE(secrets_key_path(env).stat().st_mode) == 0o600
    current, webhook, on_old_keys = asyncio.run(_read(env))
    assert current == VALUES and webhook == [VALUES["webhook_secret"], "cli-old-webhook"]
    assert on_old_keys == 0

    assert main(["secrets", "rotate-key", "--drop-old"]) == 0
    assert "dropped 2 old key(s)" in capsys.readouterr().out
    assert len(secrets_keys(env, create=False)) == 1
    assert asyncio.run(_read(env))[:2] == (current, webhook)


def test_environment_keys_are_refused_with_advice(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DCODER_SECRETS_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    assert main(["secrets", "rotate-key"]) == 1
    assert "DCODER_SECRETS_KEY" in capsys.readouterr().err
