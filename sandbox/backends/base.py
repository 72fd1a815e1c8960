"""The one contract every sandbox backend implements: prepare, run with limits, clean up.

Inside every sandbox the layout is the same, whatever the backend:

* ``/workspace`` -- a private copy of the analysed tree (the only writable path besides scratch);
* ``/config``    -- optional read-only inputs of the run (e.g. semgrep rules), see ``prepare``;
* ``/tools/bin`` -- the analyzers (semgrep, ruff, bandit), read-only;
* ``/tmp``       -- small scratch tmpfs, also ``HOME``.

There is no network, no host environment (only ``BASE_ENV`` plus what the caller passes) and
no access to the service's files. Every result names the backend that produced it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from sandbox.workspace import remove_tree

if TYPE_CHECKING:
    from core.settings import SandboxSettings

WORKSPACE_MOUNT = "/workspace"
CONFIG_MOUNT = "/config"
TOOLS_MOUNT = "/tools"
SCRATCH_MOUNT = "/tmp"  # the sandbox's own tmpfs, never the host's

# The whole environment of a sandboxed process; callers may add keys, nothing is inherited.
BASE_ENV: Mapping[str, str] = {
    "PATH": f"{TOOLS_MOUNT}/bin:/usr/local/bin:/usr/bin:/bin",
    "HOME": SCRATCH_MOUNT,
    "TMPDIR": SCRATCH_MOUNT,
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "SEMGREP_ENABLE_VERSION_CHECK": "0",
    "SEMGREP_SEND_METRICS": "off",
}


class Limits(BaseModel):
    """Resource limits of one sandboxed run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wall_timeout_s: float = Field(default=300.0, gt=0, description="wall-clock limit of a run")
    memory_mb: int = Field(default=2048, ge=32, description="memory (address space under bwrap)")
    cpus: float = Field(default=1.0, gt=0, description="CPU share (docker); CPU-s factor (bwrap)")
    pids: int = Field(default=256, ge=8, description="most processes/threads alive at once")
    max_output_bytes: int = Field(default=16 * 2**20, ge=1024, description="stdout, stderr: each")
    max_file_mb: int = Field(default=256, ge=1, description="largest file the run may write")
    scratch_mb: int = Field(default=256, ge=1, description="size of the /tmp tmpfs")

    @classmethod
    def from_settings(cls, settings: SandboxSettings) -> Limits:
        """Limits configured for the service (DCODER_SANDBOX_*)."""
        return cls(
            wall_timeout_s=settings.timeout_s,
            memory_mb=settings.memory_mb,
            cpus=settings.cpus,
            pids=settings.pids,
        )


class KilledReason(StrEnum):
    """Why the sandbox ended a run before it finished on its own."""

    TIMEOUT = "timeout"
    MEMORY = "memory"
    OUTPUT_LIMIT = "output-limit"
    PIDS = "pids"
    FILE_SIZE = "file-size"
    CPU = "cpu"


class RunResult(BaseModel):
    """What one sandboxed command did. Output is decoded as UTF-8 (undecodable bytes replaced)."""

    backend: str = Field(description="name of the backend that ran it: 'docker' or 'bwrap'")
    argv: list[str]
    exit_code: int | None = Field(description="exit status; negative = killed by that signal")
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    timed_out: bool = False
    killed_reason: KilledReason | None = Field(
        default=None, description="the limit that ended the run, None when it ended on its own"
    )
    limits_hit: list[KilledReason] = Field(
        default_factory=list, description="every limit the run ran into (e.g. pids, then timeout)"
    )
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the command exited on its own with status 0."""
        return self.exit_code == 0 and self.killed_reason is None


class Workspace(BaseModel):
    """A prepared, private copy of a tree; ``host_path`` is mounted at ``/workspace``."""

    model_config = ConfigDict(frozen=True)

    id: str
    backend: str
    host_path: Path = Field(description="the copy on the host (mounted read-write)")
    config_path: Path | None = Field(default=None, description="mounted read-only at /config")


class SandboxBackend(ABC):
    """An isolated executor. Implementations: ``docker`` and ``bwrap`` (daemonless)."""

    name: str

    @abstractmethod
    def prepare(
        self,
        source_dir: Path,
        config_dir: Path | None = None,
        exclude: Sequence[str] = (".git",),
    ) -> Workspace:
        """Copy ``source_dir`` into a fresh workspace.

        Symlinks are copied as links (never followed, so they cannot pull host files in);
        special files are skipped; top-level names in ``exclude`` are left out. ``config_dir``,
        when given, is mounted read-only at ``/config`` for every run in this workspace.
        """

    @abstractmethod
    def run(
        self,
        ws: Workspace,
        argv: Sequence[str],
        limits: Limits,
        env: Mapping[str, str] | None = None,
        cwd: str = WORKSPACE_MOUNT,
    ) -> RunResult:
        """Run ``argv`` in the sandbox (environment = ``BASE_ENV`` + ``env``) within ``limits``."""

    def cleanup(self, ws: Workspace) -> None:
        """Remove the workspace and anything the runs left behind; safe to call twice.

        Both backends keep a workspace as ``<private dir>/src``: the whole private dir goes.
        """
        remove_tree(ws.host_path.parent)

    def available(self) -> str | None:
        """None when this backend can run here, else why not (shown to the operator)."""
        return None
