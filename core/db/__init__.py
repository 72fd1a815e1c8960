"""PostgreSQL access: one asyncpg pool per process and versioned SQL migrations."""

from core.db.migrations import applied_versions, apply_migrations, available_migrations
from core.db.pool import Database, ensure_database

__all__ = [
    "Database",
    "apply_migrations",
    "applied_versions",
    "available_migrations",
    "ensure_database",
]
