"""Where the backing services are: the configured URL, or the embedded server's."""

from __future__ import annotations

from core.settings import Settings

EMBEDDED_DATABASE_NAME = "dcoder"


def nats_url(settings: Settings) -> str:
    """The configured NATS URL, or the embedded server's."""
    return settings.nats.url or f"nats://127.0.0.1:{settings.nats.embedded_port}"


def database_url(settings: Settings) -> str:
    """The configured PostgreSQL DSN, or the embedded server's."""
    return (
        settings.database.url
        or f"postgresql://postgres@127.0.0.1:{settings.database.embedded_port}/{EMBEDDED_DATABASE_NAME}"
    )
