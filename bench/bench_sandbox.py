"""Sandbox start overhead per backend against a bare subprocess (same command, same machine)."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from core.settings import SandboxSettings
from sandbox.backends.base import Limits, SandboxBackend
from sandbox.backends.select import build

TITLE = "Sandbox start overhead"
ROUNDS = 30
COMMANDS = {
    "`/bin/true`": ["/bin/true"],
    "`python -c pass` (analyzer venv)": ["/tools/bin/python", "-c", "pass"],
}


def _timed(call: Callable[[], object], rounds: int = ROUNDS) -> list[float]:
    call()  # warm caches (page cache, image layers) before measuring
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _row(name: str, samples: list[float], baseline: float | None) -> str:
    median = statistics.median(samples)
    p90 = statistics.quantiles(samples, n=10)[-1]
    over = f"{median - baseline:+.1f}" if baseline is not None else "baseline"
    return f"| {name} | {median:.1f} | {p90:.1f} | {over} |"


def _prepare_cleanup(backend: SandboxBackend, src: Path) -> None:
    backend.cleanup(backend.prepare(src))


def _backends(settings: SandboxSettings) -> list[SandboxBackend]:
    usable = []
    for name in ("bwrap", "docker"):
        backend = build(name, settings)
        if backend.available() is None:
            usable.append(backend)
    return usable


def run() -> str:
    """Median and p90 wall time of one run, and the overhead over a bare subprocess."""
    settings = SandboxSettings()
    limits = Limits(wall_timeout_s=60)
    tools = settings.tools_dir
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp)
        (src / "app.py").write_text("print('hi')\n")
        backends = _backends(settings)
        for label, argv in COMMANDS.items():
            host_argv = [str(tools / argv[0].removeprefix("/tools/")), *argv[1:]]
            if argv[0] == "/bin/true":
                host_argv = argv
            base = _timed(partial(subprocess.run, host_argv, check=True))
            lines += [f"\n**{label}**, {ROUNDS} runs each:\n",
                      "| how | median ms | p90 ms | overhead ms |", "|---|---:|---:|---:|",
                      _row("bare subprocess", base, None)]  # fmt: skip
            for backend in backends:
                ws = backend.prepare(src)
                try:
                    samples = _timed(partial(backend.run, ws, argv, limits))
                finally:
                    backend.cleanup(ws)
                lines.append(_row(f"{backend.name} sandbox", samples, statistics.median(base)))
        prep = []
        for b in backends:
            samples = _timed(partial(_prepare_cleanup, b, src))
            prep.append(f"| {b.name} | {statistics.median(samples):.1f} | "
                        f"{statistics.quantiles(samples, n=10)[-1]:.1f} |")  # fmt: skip
    missing = {"bwrap", "docker"} - {b.name for b in backends}
    note = (
        f"\n_Not measured (unavailable here): {', '.join(sorted(missing))}._\n" if missing else ""
    )
    goal = "\nGoal: daemonless (bwrap) start overhead under 200 ms.\n"
    prep_table = [
        "\n**Workspace prepare + cleanup** (1-file tree):\n",
        "| backend | median ms | p90 ms |",
        "|---|---:|---:|",
        *prep,
    ]
    return goal + "\n".join(lines + prep_table) + "\n" + note
