"""Where the backing services are: the configured URL as given, or the embedded server's URL with
its generated credentials (read from, or created in, the data directory)."""

from __future__ import annotations

from core.embedded import EmbeddedNats, EmbeddedPostgres
from core.settings import Settings

EMBEDDED_DATABASE_NAME = "dcoder"


def embedded_nats(settings: Settings) -> EmbeddedNats:
    """The embedded NATS server of this data directory (whether used or not)."""
    return EmbeddedNats(settings.data_dir / "nats", settings.nats.embedded_port)


def embedded_postgres(settings: Settings) -> EmbeddedPostgres:
    """The embedded PostgreSQL cluster of this data directory (whether used or not)."""
    return EmbeddedPostgres(settings.data_dir / "postgres", settings.database.embedded_port)


def nats_url(settings: Settings) -> str:
    """The configured NATS URL, or the embedded server's (with its user and password)."""
    return settings.nats.url or embedded_nats(settings).url


def database_url(settings: Settings) -> str:
    """The configured PostgreSQL DSN, or the embedded server's (with its password)."""
    return settings.database.url or embedded_postgres(settings).dsn(EMBEDDED_DATABASE_NAME)
