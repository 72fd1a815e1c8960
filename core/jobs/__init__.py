"""Background jobs: rows in PostgreSQL (``core.jobs.store``)."""
