"""Cold start, idle memory and ``GET /healthz`` load of ``dcoder-integrations up`` per Serve data
plane, against a bare uvicorn app with the same route, all measured in one run.

Every Serve variant is a separate cold ``up`` (fresh data dir: initdb, nats, Ray head, deploy,
/readyz 200) on its own free ports, and is stopped with ``down`` (same environment) afterwards.
Load comes from wrk (Debian package ``wrk``), a C load generator that is not the bottleneck.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from fastapi import FastAPI

from bench.support.service import isolated_service, started_by
from bench.support.service import port as bench_port
from core.embedded.nats import EmbeddedNats
from core.embedded.postgres import EmbeddedPostgres
from core.paths import PROJECT_ROOT
from core.settings import Settings

TITLE = "Runtime: cold start, idle memory and /healthz throughput (Ray Serve vs bare uvicorn)"
DURATION_S = 10
CONNECTIONS = 32
THREADS = 2
ROUNDS = 2  # other work shares the machine: run wrk twice, keep the better run
IDLE_S = 5.0
MIB = 2**20


@dataclass
class Load:
    """The better of ROUNDS wrk runs."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Row:
    """One line of the table."""

    name: str
    cold_s: float
    processes: int
    pss_mib: float
    rss_mib: float
    load: Load
    exposed: list[str]
    left_running: list[str] = field(default_factory=list)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def parse_wrk(output: str) -> Load:
    """Requests/s, p50, p99 and error count from ``wrk --latency`` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    pct = {
        m[1]: _ms(m[2], m[3])
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\b", output, re.M)
    }
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors += sum(int(n) for n in sock.groups()) if sock else 0
    return Load(rps, pct["50"], pct["99"], errors)


def _load(url: str) -> Load:
    runs = []
    for _ in range(ROUNDS):
        argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency", url]
        done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120)  # noqa: S603
        runs.append(parse_wrk(done.stdout))
    return max(runs, key=lambda load: load.rps)


def _memory(pids: list[int]) -> tuple[float, float]:
    """Summed PSS and RSS in MiB (PSS splits shared pages, so the sum does not double count)."""
    pss = rss = 0
    for pid in set(pids):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            info = psutil.Process(pid).memory_full_info()
            pss += info.pss
            rss += info.rss
    return pss / MIB, rss / MIB


def _exposed(pids: list[int]) -> list[str]:
    """Listening TCP sockets of these processes that are not bound to loopback."""
    wanted = set(pids)
    found = set()
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in wanted:
            if not _loopback(conn.laddr.ip):
                found.add(f"`{conn.laddr.ip or '*'}:{conn.laddr.port}` {_title(conn.pid)}")
    return sorted(found)


def _title(pid: int | None) -> str:
    """A process's title (Ray workers retitle themselves: ``ray::ServeReplica:...``)."""
    with contextlib.suppress(psutil.Error):
        argv = psutil.Process(pid).cmdline() or ["?"]
        script = next((a for a in argv[1:] if a.endswith(".py")), None)
        if script:
            return Path(script).name
        if "-m" in argv[1:-1]:
            return f"python -m {argv[argv.index('-m') + 1]}"
        return Path(argv[0].split()[0].split(".handle")[0]).name
    return "?"


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address or "0.0.0.0")  # noqa: S104 - empty means every interface
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return (mapped or ip).is_loopback


def _with_children(pid: int | None) -> list[int]:
    if not pid:
        return []
    with contextlib.suppress(psutil.NoSuchProcess):
        return [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]
    return []


def _wait_healthy(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.02)
    raise TimeoutError(f"{url} not healthy after {timeout_s:.0f}s")


def _measure(name: str, url: str, pids: list[int], cold_s: float) -> Row:
    pss, rss = _memory(pids)
    return Row(name, cold_s, len(pids), pss, rss, _load(url), _exposed(pids))


def create_app() -> FastAPI:
    """The baseline app: the service's health router, problem handlers and metrics middleware."""
    from serve_app.metrics import ApiMetrics
    from serve_app.problems import install_problem_handlers
    from serve_app.routers import health

    api = FastAPI(title="dcoder-integrations baseline")
    install_problem_handlers(api)
    ApiMetrics().install(api)
    api.include_router(health.router)
    return api


def baseline() -> Row:
    """The same /healthz route and middleware on one bare uvicorn worker."""
    port = bench_port()
    argv = [
        sys.executable, "-m", "uvicorn", "bench.bench_runtime:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        _wait_healthy(url, 60)
        cold_s = time.monotonic() - started
        time.sleep(IDLE_S)
        return _measure("bare uvicorn (baseline)", url, [proc.pid], cold_s)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _service_pids(settings: Settings) -> list[int]:
    """Every process of one ``up``: the Ray head's, the postmaster and its backends, nats."""
    from serve_app.launcher.ray_head import head_pids

    pg = EmbeddedPostgres(settings.data_dir / "postgres", settings.database.embedded_port)
    nats = EmbeddedNats(settings.data_dir / "nats", settings.nats.embedded_port)
    # Ray workers retitle themselves (ray::ServeReplica...), so take the head's children too.
    ray = [child for pid in head_pids(settings) for child in _with_children(pid)]
    others = {*_with_children(pg.pid), *_with_children(nats.pid)}
    return sorted({*ray, *others, *started_by(settings.data_dir)})


def serve_variant(name: str, serve_env: dict[str, str]) -> Row:
    """One cold start of the whole service with these Serve environment variables."""
    # bench.support.service strips RAY_SERVE_* and DCODER_* from the environment first, so one
    # variant's data plane never leaks into another.
    with isolated_service(serve_env) as run:
        time.sleep(IDLE_S)  # let start-up work (imports, first probes) settle before sampling
        url = f"http://127.0.0.1:{run.settings.http.port}/healthz"
        row = _measure(name, url, _service_pids(run.settings), run.cold_s)
    row.left_running = run.left_running
    return row


def variants() -> dict[str, dict[str, str]]:
    """The Serve data planes compared (the env reaches Serve through `ray start`)."""
    proxy = {"DCODER_HTTP_DATA_PLANE": "proxy"}
    return {
        "Ray Serve, Python proxy": proxy,
        "Ray Serve, Python proxy, `RAY_SERVE_THROUGHPUT_OPTIMIZED=1`": {
            **proxy,
            "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
        },
        "Ray Serve, HAProxy confined by `up` (the default)": {},
    }


def _table(rows: list[Row]) -> str:
    base = rows[0].load.rps
    lines = [
        "| setup | cold start to ready (s) | processes | idle PSS (MiB) | idle RSS sum (MiB) "
        "| req/s | vs baseline | p50 (ms) | p99 (ms) | errors | listening beyond loopback |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        exposed = ", ".join(r.exposed) or "none"
        lines.append(
            f"| {r.name} | {r.cold_s:.1f} | {r.processes} | {r.pss_mib:.0f} | {r.rss_mib:.0f} | "
            f"{r.load.rps:,.0f} | {r.load.rps / base:.2f}× | {r.load.p50_ms:.2f} | "
            f"{r.load.p99_ms:.2f} | {r.load.errors} | {exposed} |"
        )
    leaks = [f"{r.name}: {', '.join(r.left_running)}" for r in rows if r.left_running]
    if leaks:
        lines.append(
            "\n**Still running 15 s after `down`** (then stopped by the benchmark): "
            + "; ".join(leaks)
        )
    return "\n".join(lines)


def run() -> str:
    """Baseline plus one cold start per Serve data plane; one Markdown table."""
    if shutil.which("wrk") is None:
        raise RuntimeError(
            "wrk not found: install it with `apt-get update && apt-get install -y wrk` "
            "(Debian/Ubuntu; as root or with sudo), then rerun `make bench BENCH_ARGS=runtime`"
        )
    rows = [baseline()]
    for name, serve_env in variants().items():
        print(f"   {name} ...", flush=True)
        rows.append(serve_variant(name, serve_env))
    return (
        f"`wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION_S}s --latency` against `GET /healthz`, "
        f"better of {ROUNDS} runs per row (the machine is shared, so single runs are noisy); "
        "wrk and the server share the same CPUs. Cold start = wall time of "
        "`dcoder-integrations up` in a fresh data dir (initdb, nats-server, Ray head, deploy, "
        "`/readyz` 200); for the baseline, process start to first `/healthz` 200. Idle memory "
        f"sampled {IDLE_S:.0f} s after ready over every process of the run (Ray head, "
        "PostgreSQL postmaster and backends, nats-server): PSS sums shared pages once; the RSS "
        "sum counts them in every process.\n\n" + _table(rows)
    )
