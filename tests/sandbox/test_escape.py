"""The escape suite: hostile code in the analysed tree, against every backend.

Each test is an attack an analysed repository could try; each asserts the attack was contained
and that the result says so clearly.
"""

from __future__ import annotations

import os
import socket
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.backends.base import KilledReason, Limits, RunResult, SandboxBackend, Workspace

PY = "/tools/bin/python"
TEST_NET = "192.0.2.1"  # RFC 5737 TEST-NET-1: nothing answers there


def run_py(backend: SandboxBackend, ws: Workspace, code: str, limits: Limits) -> RunResult:
    """Run a Python snippet inside the sandbox."""
    return backend.run(ws, [PY, "-c", textwrap.dedent(code)], limits)


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A TCP server of "the service" on a free loopback port; records who connected."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except TimeoutError:
                continue
            accepted.append(str(addr))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=2)
    server.close()


def test_no_network_to_service_ports_or_outside(
    backend: SandboxBackend, workspace: Workspace, limits: Limits, listener: tuple[int, list[str]]
) -> None:
    port, accepted = listener
    code = f"""
        import socket
        for host, port in (("127.0.0.1", {port}), ("{TEST_NET}", 80), ("{TEST_NET}", 443)):
            try:
                socket.create_connection((host, port), timeout=2).close()
                print("CONNECTED", host, port)
            except OSError as err:
                print("BLOCKED", host, port, err.errno)
        try:
            socket.getaddrinfo("example.com", 443)
            print("DNS OK")
        except OSError:
            print("DNS BLOCKED")
    """
    result = run_py(backend, workspace, code, limits)
    assert result.ok, result.stderr
    assert "CONNECTED" not in result.stdout
    assert result.stdout.count("BLOCKED") == 4
    assert accepted == []


def test_cannot_write_outside_the_workspace(
    backend: SandboxBackend, workspace: Workspace, limits: Limits, tmp_path: Path
) -> None:
    host_dir = tmp_path / "host-only"
    host_dir.mkdir()
    targets = ["/etc/evil", "/usr/evil", "/tools/evil", "/evil", f"{host_dir}/evil", "/proc/evil"]
    code = f"""
        for path in {targets!r} + ["/workspace/ok", "/tmp/ok"]:
            try:
                with open(path, "w") as handle:
                    handle.write("x")
                print("WROTE", path)
            except OSError as err:
                print("DENIED", path, err.strerror)
    """
    result = run_py(backend, workspace, code, limits)
    assert result.ok, result.stderr
    wrote = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("WROTE")}
    assert wrote == {"/workspace/ok", "/tmp/ok"}
    assert list(host_dir.iterdir()) == []
    assert (workspace.host_path / "ok").read_text() == "x"


def test_cannot_read_service_environment_or_files(
    backend: SandboxBackend,
    workspace: Workspace,
    limits: Limits,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    monkeypatch.setenv("DCODER_SECURITY_OPERATOR_KEY", canary)  # a service secret
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secrets.key").write_text(canary)
    project_root = Path(__file__).resolve().parents[2]
    probes = [
        "/proc/1/environ",
        "/proc/self/environ",
        str(data_dir / "secrets.key"),
        str(project_root / "pyproject.toml"),
        str(project_root / "core" / "settings.py"),
        str(Path.home() / ".config" / "pip" / "pip.conf"),
    ]
    code = f"""
        import os
        print("ENV", sorted(os.environ))
        for path in {probes!r}:
            try:
                with open(path, "rb") as handle:
                    print("READ", path, handle.read())
            except OSError as err:
                print("DENIED", path, err.strerror)
    """
    result = run_py(backend, workspace, code, limits)
    assert result.ok, result.stderr
    assert canary not in result.stdout
    assert "DCODER_" not in result.stdout
    readable = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("READ")}
    assert readable <= {"/proc/1/environ", "/proc/self/environ"}  # the sandbox's own


def test_symlinks_in_the_tree_do_not_reach_host_files(
    backend: SandboxBackend, limits: Limits, tmp_path: Path
) -> None:
    src = tmp_path / "evil-repo"
    src.mkdir()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    canary = f"canary-{uuid.uuid4().hex}"
    (data_dir / "secrets.key").write_text(canary)
    (src / "passwd").symlink_to("/etc/passwd")
    (src / "data").symlink_to(data_dir)
    (src / "key").symlink_to(data_dir / "secrets.key")
    ws = backend.prepare(src)
    try:
        assert (ws.host_path / "passwd").is_symlink()  # copied as a link, not as its target
        code = """
            for path in ("passwd", "data/secrets.key", "key"):
                try:
                    print("READ", path, open(path).read())
                except OSError as err:
                    print("DENIED", path, err.strerror)
        """
        result = run_py(backend, ws, code, limits)
    finally:
        backend.cleanup(ws)
    assert result.ok, result.stderr
    assert canary not in result.stdout
    assert "DENIED data/secrets.key" in result.stdout
    assert "DENIED key" in result.stdout
    host_passwd = Path("/etc/passwd").read_text()
    assert host_passwd.splitlines()[-1] not in result.stdout  # the sandbox's own passwd, if any
    assert data_dir.joinpath("secrets.key").read_text() == canary


def test_fork_bomb_hits_the_process_limit(
    backend: SandboxBackend, workspace: Workspace, limits: Limits
) -> None:
    code = """
        import os, sys, time
        failures = 0
        while failures < 50:
            try:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
            except OSError as err:
                failures += 1
                print("fork failed:", err, file=sys.stderr, flush=True)
        time.sleep(30)
    """
    bounded = limits.model_copy(update={"wall_timeout_s": 4.0})
    result = run_py(backend, workspace, code, bounded)
    assert KilledReason.PIDS in result.limits_hit
    assert result.killed_reason is KilledReason.TIMEOUT  # it then slept until the wall timeout
    assert result.duration_s < 15


def test_memory_hog_is_stopped(
    backend: SandboxBackend, workspace: Workspace, limits: Limits
) -> None:
    code = """
        hog = []
        while True:
            hog.append(bytearray(8 * 2**20))
    """
    result = run_py(backend, workspace, code, limits)
    assert not result.ok
    assert result.killed_reason is KilledReason.MEMORY
    assert not result.timed_out


def test_infinite_loop_hits_the_wall_timeout(
    backend: SandboxBackend, workspace: Workspace, limits: Limits
) -> None:
    bounded = limits.model_copy(update={"wall_timeout_s": 2.0})
    result = backend.run(workspace, ["/bin/sh", "-c", "while :; do :; done"], bounded)
    assert result.timed_out
    assert result.killed_reason is KilledReason.TIMEOUT
    assert 2.0 <= result.duration_s < 10


def test_gigabytes_of_output_are_cut_off(
    backend: SandboxBackend, workspace: Workspace, limits: Limits
) -> None:
    result = backend.run(
        workspace, ["/bin/sh", "-c", "head -c 4000000000 /dev/zero | tr '\\0' x"], limits
    )
    assert result.killed_reason is KilledReason.OUTPUT_LIMIT
    assert result.stdout_truncated
    assert len(result.stdout) == limits.max_output_bytes
    assert result.duration_s < 15


def test_huge_file_hits_the_file_size_limit(
    backend: SandboxBackend, workspace: Workspace, limits: Limits
) -> None:
    result = backend.run(workspace, ["/bin/sh", "-c", "head -c 100000000 /dev/zero > big"], limits)
    assert not result.ok
    assert result.killed_reason is KilledReason.FILE_SIZE
    assert (workspace.host_path / "big").stat().st_size <= limits.max_file_mb * 2**20


def test_background_processes_die_with_the_run(
    backend: SandboxBackend, workspace: Workspace, limits: Limits
) -> None:
    marker = f"dcoder-orphan-{uuid.uuid4().hex}"
    script = (
        f"(exec -a {marker} sleep 300 &) ; (setsid sh -c 'exec -a {marker} sleep 300' &) ;"
        " echo started"
    )
    result = backend.run(workspace, ["/bin/bash", "-c", script], limits)
    assert result.ok, result.stderr
    assert "started" in result.stdout
    deadline = time.monotonic() + 5  # the kernel reaps a dead pid namespace asynchronously
    while _host_processes_named(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _host_processes_named(marker) == []


def _host_processes_named(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_results_name_the_backend(
    backend: SandboxBackend, workspace: Workspace, limits: Limits
) -> None:
    result = backend.run(workspace, ["/bin/true"], limits)
    assert result.ok
    assert result.backend == backend.name
    assert os.path.isdir(workspace.host_path)
