"""Run the benchmarks and write their tables into bench/README.md.

Each ``bench/bench_<name>.py`` defines ``TITLE: str`` and ``run() -> str`` returning a Markdown
section (tables measured in this run, baseline included). Results of each module are kept in
``bench/results/<name>.md``; README.md is rebuilt from all of them, so running one benchmark
(``python -m bench estimator``) keeps the other sections as they were last measured.
``--dry-run`` prints the sections and writes nothing (for checking a benchmark's code with short
settings, e.g. ``BENCH_WEBHOOKS_DURATION_S=2 BENCH_WEBHOOKS_FIXED_S=2``, on a busy machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"

HEADER = """# Benchmarks

`make bench` runs every `bench/bench_*.py` and rebuilds this file; `make bench BENCH_ARGS=NAME`
runs one. Every table compares against a baseline measured in the same run on the same machine.
Timings are never asserted in tests: they live here.
"""


def _machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {mem_gib:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def available() -> list[str]:
    """Names of every benchmark module."""
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def run_one(name: str, *, write: bool = True) -> None:
    """Run one benchmark module and store its section (print only unless ``write``)."""
    module = importlib.import_module(f"bench.bench_{name}")
    print(f"== {name}: {module.TITLE}", flush=True)
    started = time.perf_counter()
    body = module.run()
    took = time.perf_counter() - started
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"## {module.TITLE}\n\n_Measured {stamp} on {_machine()}; the benchmark took "
        f"{took:.0f} s._\n\n{body.strip()}\n"
    )
    if write:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / f"{name}.md").write_text(section)
    print(section, flush=True)


def rebuild_readme() -> None:
    """Rebuild bench/README.md from every stored section."""
    sections = [
        (RESULTS_DIR / f"{name}.md").read_text()
        for name in available()
        if (RESULTS_DIR / f"{name}.md").exists()
    ]
    (BENCH_DIR / "README.md").write_text(HEADER + "\n" + "\n".join(sections))


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all when none is named)."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(available())}")
    parser.add_argument("--dry-run", action="store_true", help="print results, write nothing")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    failed = []
    for name in names:
        try:
            run_one(name, write=not args.dry_run)
        except Exception as err:  # noqa: BLE001 - one failing benchmark must not hide the others
            print(f"benchmark {name} failed: {err!r}", file=sys.stderr, flush=True)
            failed.append(name)
    if not args.dry_run:
        rebuild_readme()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
