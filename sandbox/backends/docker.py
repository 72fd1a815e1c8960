"""Docker backend: one throwaway container per run, locked down.

No network (``network_mode="none"``), read-only root, tmpfs scratch, non-root user, every
capability dropped, no-new-privileges, CPU / memory / pids / file-size limits, wall timeout,
container removed at the end. The analyzers are inside the image (sandbox/docker/build_image.sh).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sandbox.backends.base import (
    BASE_ENV,
    CONFIG_MOUNT,
    SCRATCH_MOUNT,
    WORKSPACE_MOUNT,
    KilledReason,
    Limits,
    RunResult,
    SandboxBackend,
    Workspace,
)
from sandbox.backends.output import BoundedBuffer
from sandbox.backends.process import build_result
from sandbox.errors import SandboxError, SandboxUnavailable
from sandbox.workspace import copy_tree, new_workspace_dir, remove_tree

ANALYZER_UID = 10001  # the image's `analyzer` user (build_image.sh)
LABEL = "dcoder.sandbox"


def container_user() -> str:
    """The container user: the image's analyzer, or, without root to chown, our own ids."""
    if os.geteuid() == 0:
        return f"{ANALYZER_UID}:{ANALYZER_UID}"
    return f"{os.geteuid()}:{os.getegid()}"


# Socket of the engine started by sandbox/docker/engine.sh; used when DOCKER_HOST is unset.
LOCAL_ENGINE_SOCKET = Path("/run/dcoder-docker/docker.sock")


def docker_host(configured: str | None) -> str | None:
    """Where the engine is: the setting, else DOCKER_HOST, else engine.sh's socket if present."""
    if configured:
        return configured
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    if LOCAL_ENGINE_SOCKET.exists():
        return f"unix://{LOCAL_ENGINE_SOCKET}"
    return None  # the SDK's default, /var/run/docker.sock


class DockerBackend(SandboxBackend):
    """Runs each command in a fresh container of the analysis image."""

    name = "docker"

    def __init__(self, image: str, host: str | None = None) -> None:
        self.image = image
        self.host = docker_host(host)
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The docker SDK client (created on first use)."""
        if self._client is None:
            import docker

            self._client = (
                docker.DockerClient(base_url=self.host) if self.host else docker.from_env()
            )
        return self._client

    def available(self) -> str | None:
        """Why this backend cannot run here (engine silent, image missing), or None."""
        import docker.errors

        try:
            self.client.ping()
        except Exception as err:  # noqa: BLE001 - any failure means "no engine here"
            return f"no Docker engine answers at {self.host or 'the default socket'}: {err}"
        try:
            self.client.images.get(self.image)
        except docker.errors.ImageNotFound:
            return f"image {self.image} missing (build it: make image)"
        return None

    def prepare(
        self,
        source_dir: Path,
        config_dir: Path | None = None,
        exclude: Sequence[str] = (".git",),
    ) -> Workspace:
        """Copy the tree for the container's unprivileged user."""
        ws_id, base = new_workspace_dir()
        try:
            (base / "src").mkdir()
            copy_tree(source_dir, base / "src", exclude)
            os.chmod(base, 0o711)  # the container user must reach src/, not list base
            if os.geteuid() == 0:  # hand the copy to the image's unprivileged user
                for root, dirs, files in os.walk(base / "src"):
                    for name in [*dirs, *files]:
                        os.lchown(os.path.join(root, name), ANALYZER_UID, ANALYZER_UID)
                os.chown(base / "src", ANALYZER_UID, ANALYZER_UID)
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
        """Run ``argv`` in a new container over ``ws``; the container is removed afterwards."""
        import docker.errors

        if not ws.host_path.is_dir():
            raise SandboxError(f"workspace {ws.id} is gone")
        started = time.monotonic()
        try:
            container = self.client.containers.create(
                **self._container_config(ws, argv, limits, {**BASE_ENV, **(env or {})}, cwd)
            )
        except docker.errors.DockerException as err:
            raise SandboxUnavailable(f"cannot create the sandbox container: {err}") from err
        try:
            return self._supervise(container, argv, limits, started)
        finally:
            container.remove(force=True)

    def _container_config(
        self, ws: Workspace, argv: Sequence[str], limits: Limits, env: Mapping[str, str], cwd: str
    ) -> dict[str, Any]:
        from docker.types import LogConfig, Ulimit

        file_size = limits.max_file_mb * 2**20
        cpu_s = int(limits.wall_timeout_s * limits.cpus) + 1
        volumes = {str(ws.host_path): {"bind": WORKSPACE_MOUNT, "mode": "rw"}}
        if ws.config_path is not None:
            volumes[str(ws.config_path)] = {"bind": CONFIG_MOUNT, "mode": "ro"}
        # Bounds the container's life even if this supervisor dies before it can kill it.
        lifetime = ["timeout", "-s", "KILL", str(int(limits.wall_timeout_s) + 5)]
        return {
            "image": self.image,
            "command": [*lifetime, *argv],
            "user": container_user(),
            "environment": dict(env),
            "working_dir": cwd,
            "network_mode": "none",
            "read_only": True,
            "tmpfs": {SCRATCH_MOUNT: f"rw,nosuid,nodev,size={limits.scratch_mb}m,mode=1777"},
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "mem_limit": f"{limits.memory_mb}m",
            "memswap_limit": f"{limits.memory_mb}m",  # no swap: the limit is real
            "nano_cpus": int(limits.cpus * 1e9),
            "pids_limit": limits.pids,
            "ulimits": [
                Ulimit(name="fsize", soft=file_size, hard=file_size),
                Ulimit(name="cpu", soft=cpu_s, hard=cpu_s),
                Ulimit(name="core", soft=0, hard=0),
            ],
            "init": True,  # reaps orphans, forwards the kill to the whole tree
            "volumes": volumes,
            "labels": {LABEL: ws.id},
            "log_config": LogConfig(type="none"),  # output is streamed, never stored by dockerd
            "stdin_open": False,
            "detach": True,
        }

    def _supervise(
        self, container: Any, argv: Sequence[str], limits: Limits, started: float
    ) -> RunResult:
        out, err = BoundedBuffer(limits.max_output_bytes), BoundedBuffer(limits.max_output_bytes)
        over, done = threading.Event(), threading.Event()
        stream = container.attach(stdout=True, stderr=True, stream=True, demux=True, logs=False)
        container.start()
        reader = threading.Thread(target=_pump_demux, args=(stream, out, err, over), daemon=True)
        reader.start()
        status: dict[str, Any] = {}

        def wait() -> None:
            status.update(container.wait(timeout=limits.wall_timeout_s + 60))
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        ended_by: KilledReason | None = None
        pids_hit = False
        while not done.wait(0.05):
            # The container's cgroup is gone once it exits: read its counter while it runs.
            pids_hit = pids_hit or _pids_limit_hit(container.id)
            if over.is_set():
                ended_by = KilledReason.OUTPUT_LIMIT
            elif time.monotonic() - started > limits.wall_timeout_s:
                ended_by = KilledReason.TIMEOUT
            if ended_by is not None:
                container.kill()
                done.wait(30)
                break
        hit = [KilledReason.PIDS] if pids_hit else []
        reader.join(timeout=5)
        container.reload()
        exit_code = int(container.attrs["State"]["ExitCode"])
        if container.attrs["State"].get("OOMKilled"):
            hit.append(KilledReason.MEMORY)
        if over.is_set() and ended_by is None:
            ended_by = KilledReason.OUTPUT_LIMIT
        return build_result(self.name, argv, exit_code, (out, err), ended_by, hit, started)


def _pump_demux(
    stream: Iterator[tuple[bytes | None, bytes | None]],
    out: BoundedBuffer,
    err: BoundedBuffer,
    over: threading.Event,
) -> None:
    """Copy the attached (stdout, stderr) frames into the buffers until EOF.

    Past the limit the stream is still drained (and dropped): dockerd blocks the container's
    kill and removal while nobody reads its attach stream.
    """
    try:
        for chunk_out, chunk_err in stream:
            if over.is_set():
                continue
            if (chunk_out and not out.feed(chunk_out)) or (chunk_err and not err.feed(chunk_err)):
                over.set()
    except Exception:  # noqa: BLE001 - the connection drops when the container is killed
        return


def _pids_limit_hit(container_id: str) -> bool:
    """Whether the container ran into its pids limit (readable when the engine is local)."""
    candidates = (
        Path("/sys/fs/cgroup/pids/docker") / container_id / "pids.events",  # v1, cgroupfs
        Path("/sys/fs/cgroup/system.slice") / f"docker-{container_id}.scope" / "pids.events",
        Path("/sys/fs/cgroup/docker") / container_id / "pids.events",  # v2, cgroupfs
    )
    for events in candidates:
        try:
            counters = dict(line.split(" ", 1) for line in events.read_text().splitlines())
        except (OSError, ValueError):
            continue
        return int(counters.get("max", "0")) > 0
    return False
