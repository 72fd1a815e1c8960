"""The HAProxy shim: Serve's template rendered for real, hardened, then the real binary started."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from serve_app.launcher.haproxy_shim import (
    EX_CONFIG,
    REAL_BINARY_ENV,
    exposed,
    harden,
    read_limits,
    with_queue_bound,
    write_error_pages,
    write_shed_body,
)


def _rendered(
    root: Path, socket: Path | None = None, ports: tuple[int, int, int] = (8085, 18404, 19101)
) -> str:
    """Serve 2.60's own template, rendered by Serve's own code for one backend."""
    from ray.serve._private.haproxy import BackendConfig, HAProxyApi, HAProxyConfig, ServerConfig

    cfg = HAProxyConfig(
        socket_path=str(socket or root / "admin.sock"), server_state_base=str(root),
        server_state_file=str(root / "state"), stats_port=ports[1], metrics_port=ports[2],
    )  # fmt: skip
    cfg.http_options.host = "127.0.0.1"
    cfg.http_options.port = ports[0]
    server = ServerConfig(name="r1", host="127.0.0.1", port=30001)
    backend = BackendConfig(name="dcoder", path_prefix="/", servers=[server])
    api = HAProxyApi(cfg=cfg, backend_configs={"dcoder": backend}, config_file_path=str(root / "c"))
    api._generate_config_file_internal()
    return (root / "c").read_text()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> str:
    try:
        return _rendered(tmp_path_factory.mktemp("haproxy"))
    except (AttributeError, TypeError) as err:  # the renderer's private surface moved
        pytest.fail(f"Serve's HAProxy renderer changed; re-check the shim against it: {err!r}")


def test_serves_template_exposes_stats_metrics_and_admin_socket(rendered: str) -> None:
    # What the shim exists for: if Serve fixes its template, this fails and the shim can go.
    assert "bind *:18404" in rendered
    assert "bind :19101" in rendered
    assert "mode 666 level admin" in rendered
    assert sorted(exposed(rendered)) == ["*:18404", ":19101"]


def test_harden_keeps_everything_on_loopback(rendered: str) -> None:
    hardened = harden(rendered)
    assert exposed(hardened) == []
    assert "bind 127.0.0.1:18404" in hardened
    assert "bind 127.0.0.1:19101" in hardened
    assert "mode 600 level admin" in hardened
    assert "bind 127.0.0.1:8085" in hardened  # the frontend where http_options put it
    assert harden(hardened) == hardened


def test_an_operator_chosen_frontend_host_is_kept() -> None:
    config = "frontend f\n    bind 0.0.0.0:8085\nlisten stats\n  bind *:8404\n"
    hardened = harden(config)
    assert "bind 0.0.0.0:8085" in hardened
    assert exposed(hardened, frontend_host="0.0.0.0") == []  # noqa: S104
    assert exposed(hardened) == ["0.0.0.0:8085"]


SHIM = "serve_app.launcher.haproxy_shim"


def _run_shim(tmp_path: Path, config: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(config)
    fake = tmp_path / "fake-haproxy"
    fake.write_text('#!/bin/sh\necho "$0 $*"\n')
    fake.chmod(stat.S_IRWXU)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", SHIM, "-db", "-f", str(cfg), "-sf", "42"],
        env={**os.environ, REAL_BINARY_ENV: str(fake), **env},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_shim_rewrites_then_execs_the_binary_with_the_same_arguments(
    tmp_path: Path, rendered: str
) -> None:
    done = _run_shim(tmp_path, rendered, {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{tmp_path}/fake-haproxy -db -f {tmp_path}/haproxy.cfg -sf 42"
    assert exposed((tmp_path / "haproxy.cfg").read_text()) == []


def test_shim_refuses_an_unexpected_public_bind(tmp_path: Path) -> None:
    done = _run_shim(tmp_path, "frontend x\n    bind 10.0.0.5:9999\n", {})
    assert done.returncode == EX_CONFIG
    assert "refusing to listen on 10.0.0.5:9999" in done.stderr
    assert done.stdout == ""  # the binary never started


def test_haproxys_own_errors_become_problem_json_pages(tmp_path: Path, rendered: str) -> None:
    pages = write_error_pages(str(tmp_path))
    hardened = harden(rendered, pages)
    assert harden(hardened, pages) == hardened
    for status in (400, 408, 500):
        assert f"errorfile {status} {pages[status]}" in hardened
    for status in (502, 504):  # Serve's own lines, still answering 500, now problem+json
        assert f"errorfile {status} {pages[500]}" in hardened
        assert hardened.count(f"errorfile {status} ") == 1
    # HAProxy's 503 (queue timeout, no replica reachable) keeps its status, with Retry-After.
    assert f"errorfile 503 {pages[503]}" in hardened and hardened.count("errorfile 503 ") == 1
    head, _, body = Path(pages[503]).read_bytes().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ") and b"\r\nRetry-After: 1\r\n" in head
    assert json.loads(body)["code"] == "unavailable"
    head, _, body = Path(pages[400]).read_bytes().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"application/problem+json" in head
    assert json.loads(body)["status"] == 400
    assert stat.S_IMODE(Path(pages[400]).stat().st_mode) == 0o600
    _assert_haproxy_accepts(tmp_path, hardened)


def _assert_haproxy_accepts(tmp_path: Path, config: str) -> None:
    """The real binary validates ``config`` (``haproxy -c``)."""
    from serve_app.launcher.haproxy_shim import real_binary

    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(config)
    check = subprocess.run(  # noqa: S603 - HAProxy itself validates the result
        [real_binary(), "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30,
        check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr


def _free_port() -> int:
    from serve_app.launcher.data_plane import loopback_port

    return loopback_port()


def _get(port: int, request: bytes, timeout_s: float = 30) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_the_real_haproxy_answers_its_own_errors_as_problem_json(tmp_path: Path) -> None:
    """Serve's config, hardened, run by the real binary with no replica behind it."""
    import time

    from ray.serve._private.haproxy import BackendConfig, HAProxyApi, HAProxyConfig, ServerConfig

    from serve_app.launcher.haproxy_shim import real_binary

    port = _free_port()
    cfg = HAProxyConfig(
        socket_path=str(tmp_path / "admin.sock"), server_state_base=str(tmp_path),
        server_state_file=str(tmp_path / "state"), stats_port=_free_port(),
        metrics_port=_free_port(),
    )  # fmt: skip
    cfg.http_options.host = "127.0.0.1"
    cfg.http_options.port = port
    dead = ServerConfig(name="r1", host="127.0.0.1", port=_free_port())  # nothing listens there
    backend = BackendConfig(name="dcoder", path_prefix="/", servers=[dead])
    path = tmp_path / "haproxy.cfg"
    HAProxyApi(
        cfg=cfg, backend_configs={"dcoder": backend}, config_file_path=str(path)
    )._generate_config_file_internal()
    path.write_text(harden(path.read_text(), write_error_pages(str(tmp_path))))
    proc = subprocess.Popen(  # noqa: S603
        [real_binary(), "-db", "-f", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        answer = b""
        while time.monotonic() < deadline and not answer.startswith(b"HTTP/1.1 503"):
            try:
                answer = _get(
                    port, b"GET /v1/tenants HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
            except OSError:
                time.sleep(0.2)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503"), answer[:300]  # no replica reachable
        assert b"application/problem+json" in head and b"retry-after: 1" in head.lower()
        assert json.loads(body)["code"] == "unavailable"
        # Requests HAProxy cannot parse (a 100 KB URL is beyond its 16 KB buffer) are answered
        # by HAProxy 2.8's H1 layer with its built-in HTML page, which no `errorfile` reaches
        # (haproxy/haproxy#3032, fixed in 3.2): documented in docs/webhooks.md.
        long_url = b"GET /?q=" + b"x" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert _get(port, long_url).startswith(b"HTTP/1.1 400")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_wait_in_front_of_a_replica_is_bounded(tmp_path: Path, rendered: str) -> None:
    """Serve renders no server ``maxconn`` (HAProxy would never queue): the shim adds one to
    every backend's ``default-server`` and a ``timeout queue`` to ``defaults``, from the file
    `up` writes."""
    assert " maxconn " not in rendered.split("defaults", 1)[1]  # Serve 2.60's own template
    limits_file = tmp_path / "limits.json"
    limits_file.write_text(json.dumps({"replica_maxconn": 3, "queue_timeout_ms": 250}))
    limits = read_limits(str(limits_file))
    assert limits == {
        "replica_maxconn": 3, "queue_timeout_ms": 250, "queue_max": 32, "retry_after_s": 1,
        "retry_spread_s": 3,
    }  # fmt: skip
    body = Path(write_shed_body(str(tmp_path)))
    assert stat.S_IMODE(body.stat().st_mode) == 0o600
    bounded = harden(rendered, write_error_pages(str(tmp_path)), limits, str(body))
    assert harden(bounded, write_error_pages(str(tmp_path)), limits, str(body)) == bounded
    # the queue is bounded too: past 32 waiting, an immediate 503 from HAProxy itself, its
    # Retry-After jittered over 1..4 s at start (a range of 4 whole seconds, a process variable
    # the replicas widen while shedding lasts), routed before the app's own backend
    frontend = bounded.split("\nfrontend http_frontend", 1)[1].split("\nbackend ", 1)[0]
    shed_rule = "use_backend dcoder_shed if is_dcoder { queue(dcoder) ge 32 }"
    assert frontend.index(shed_rule) < frontend.index("use_backend dcoder if is_dcoder")
    shed = bounded.split("\nbackend dcoder_shed\n", 1)[1]
    retry = 'hdr Retry-After "%[rand(1000),mul(proc.dcoder_retry_range),div(1000),add(1)]"'
    assert retry in shed and f"file {body}" in shed
    glob = bounded.split("global\n", 1)[1].split("\ndefaults", 1)[0]
    assert "    set-var proc.dcoder_retry_range int(4)\n" in glob
    assert json.loads(body.read_bytes())["code"] == "overloaded"
    servers = [line for line in bounded.splitlines() if line.strip().startswith("default-server")]
    assert servers and all(line.endswith(" maxconn 3") for line in servers)
    defaults = bounded.split("\ndefaults", 1)[1].split("\nfrontend", 1)[0]
    assert defaults.count("timeout queue 250ms") == 1 and bounded.count("timeout queue") == 1
    assert with_queue_bound(bounded, 9, 1500).count("maxconn 9") == len(servers)
    _assert_haproxy_accepts(tmp_path, bounded)


async def test_a_restarted_haproxy_gets_the_widened_retry_window_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Serve restarts HAProxy on a config reload, and the restarted one starts from the least
    spread in its global section: the steering writes a wider window again at its next step."""
    import asyncio

    from serve_app.admission import Admission
    from serve_app.haproxy_stats import SOCKET_ENV, admin_command
    from serve_app.launcher.haproxy_shim import RETRY_RANGE_VAR, real_binary
    from serve_app.retry_window import RetrySteering, RetryWindow

    root = tmp_path / "node"  # the replicas find HAProxy's sockets at <dir>/*/admin.sock
    (root / "h").mkdir(parents=True)
    admin = root / "h" / "admin.sock"
    text = _rendered(tmp_path, admin, (_free_port(), _free_port(), _free_port()))
    limits = {"replica_maxconn": 3, "queue_timeout_ms": 250, "queue_max": 32, "retry_after_s": 1,
              "retry_spread_s": 3}  # fmt: skip
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(
        harden(text, write_error_pages(str(tmp_path)), limits, write_shed_body(str(tmp_path)))
    )
    monkeypatch.setenv(SOCKET_ENV, str(root / "admin.sock"))

    async def start() -> asyncio.subprocess.Process:
        admin.unlink(missing_ok=True)
        proc = await asyncio.create_subprocess_exec(
            real_binary(), "-db", "-f", str(cfg), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(150):
            if admin.is_socket():
                return proc
            await asyncio.sleep(0.1)
        proc.kill()
        raise AssertionError("HAProxy did not open its admin socket")

    async def held() -> str:
        answer = await admin_command(admin, f"experimental-mode on; get var {RETRY_RANGE_VAR}")
        return answer.split("value=<", 1)[1].split(">", 1)[0]

    window = RetryWindow(3, 120)
    window.spread = 60.0  # widened by a burst a moment ago
    steering = RetrySteering(window, Admission(limit=10, retry_after_s=1), every_s=0.05)
    proc = await start()
    try:
        assert await held() == "4"  # the start value: least spread + 1
        await steering._steer()  # the first step only takes the counts in
        await steering._steer()
        widened = window.seconds + 1
        assert widened > 40 and await held() == str(widened)
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
        proc = await start()  # what a Serve config reload does
        assert await held() == "4"
        await steering._steer()
        assert await held() == str(window.seconds + 1) and window.seconds > 40
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
