"""Embedded servers started when no URL is configured: nats-server and PostgreSQL.

Both run as daemons whose pid files live under the data directory, so ``down`` stops exactly the
processes ``up`` started, and a restart keeps the data.
"""

from core.embedded.nats import EmbeddedNats
from core.embedded.postgres import EmbeddedPostgres
from core.embedded.process import free_port, pid_alive, stop_pid

__all__ = ["EmbeddedNats", "EmbeddedPostgres", "free_port", "pid_alive", "stop_pid"]
