"""The directory actor: who this service is, and (later) which host holds which tenant."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import ray


@ray.remote(num_cpus=0.05, max_restarts=-1, max_task_retries=3)
class Directory:
    """A detached, restartable actor that answers pings with its identity."""

    def __init__(self, service_version: str) -> None:
        self.service_version = service_version
        self.started_at = time.time()

    def ping(self) -> dict[str, Any]:
        """Identity and uptime of the actor (exercises the Ray path end to end)."""
        return {
            "actor": "directory",
            "service_version": self.service_version,
            "node": socket.gethostname(),
            "pid": os.getpid(),
            "uptime_s": round(time.time() - self.started_at, 3),
        }
