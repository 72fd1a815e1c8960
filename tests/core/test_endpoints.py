"""Backing-service URLs: a configured URL is used as given; the embedded ones carry credentials."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from core.endpoints import database_url, nats_url
from core.settings import Settings


def test_embedded_urls_carry_the_generated_credentials(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, nats={"url": None}, database={"url": None})
    nats, pg = urlsplit(nats_url(settings)), urlsplit(database_url(settings))
    assert (nats.username, nats.password) == (
        "dcoder", (tmp_path / "nats" / "password").read_text().strip())  # fmt: skip
    assert (pg.username, pg.password) == (
        "postgres", (tmp_path / "postgres" / "password").read_text().strip())  # fmt: skip
    assert (nats.port, pg.port, pg.path) == (
        settings.nats.embedded_port, settings.database.embedded_port, "/dcoder")  # fmt: skip
    assert nats_url(settings) == nats_url(settings)  # created once, then read


def test_configured_urls_are_used_as_given(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        nats={"url": "tls://app:secret@nats.example:4222"},
        database={"url": "postgresql://app:secret@db.example/app?sslmode=verify-full"},
    )
    assert nats_url(settings) == "tls://app:secret@nats.example:4222"
    assert database_url(settings) == "postgresql://app:secret@db.example/app?sslmode=verify-full"
    assert not any(tmp_path.iterdir())  # no credentials generated for servers we do not run
