"""`dcoder-integrations review PATH`: the sandboxed analysis of a local checkout, for any CI.

Exit status: 0 clean (or no finding at or above ``--fail-on``), 1 findings at or above
``--fail-on``, 2 the analysis could not run (bad path or base, no sandbox backend), 3 an analyzer
did not finish (the report is partial).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

FORMATS = ("sarif", "markdown", "json")
FAIL_ON = ("high", "medium", "low", "never")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``review`` subcommand."""
    parser = subparsers.add_parser(
        "review",
        help="analyse a local checkout in the sandbox (semgrep, ruff, bandit)",
        description="Run the sandboxed security analysis on PATH: the whole tree, or only the "
        "lines changed since --base. Backend: DCODER_SANDBOX_BACKEND (auto|docker|bwrap).",
    )
    parser.add_argument("path", type=Path, help="the checkout to analyse")
    parser.add_argument("--base", help="git ref; report only lines changed since it")
    parser.add_argument("--format", choices=FORMATS, default="markdown", help="report format")
    parser.add_argument("--output", type=Path, help="write the report here (default: stdout)")
    parser.add_argument(
        "--backend", choices=("auto", "docker", "bwrap"), help="override DCODER_SANDBOX_BACKEND"
    )
    parser.add_argument(
        "--fail-on", choices=FAIL_ON, default="never", help="exit 1 on findings this severe"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the analysis and write the report; the exit status says how it went."""
    from core.errors import IntegrationsError
    from core.settings import load_settings
    from sandbox.analysis.engine import analyze
    from sandbox.backends import Limits, select_backend

    if not args.path.is_dir():
        print(f"review: not a directory: {args.path}", file=sys.stderr)
        return 2
    settings = load_settings().sandbox
    if args.backend:
        settings = settings.model_copy(update={"backend": args.backend})

    def say(message: str) -> None:
        if not args.quiet:
            print(f"review: {message}", file=sys.stderr, flush=True)

    try:
        _ensure_analyzers(settings)
        backend = select_backend(settings)
        say(f"sandbox backend: {backend.name}")
        report = analyze(
            args.path,
            base=args.base,
            backend=backend,
            limits=Limits.from_settings(settings),
            progress=say,
        )
    except IntegrationsError as err:
        print(f"review: {err.detail}", file=sys.stderr)
        return 2
    _write(_render(report, args.format), args.output)
    return _exit_status(report, args.fail_on, say)


def _ensure_analyzers(settings: Any) -> None:
    """Install the analyzer venv on first use when bwrap will run (always said, even --quiet)."""
    from sandbox.analyzers_install import install_analyzers, needs_install
    from sandbox.backends.select import build

    def docker_usable() -> bool:
        return build("docker", settings).available() is None

    if needs_install(settings.backend, settings.tools_dir, docker_usable):
        install_analyzers(
            settings.tools_dir, lambda message: print(f"review: {message}", file=sys.stderr)
        )


def _render(report: Any, fmt: str) -> str:
    from sandbox.analysis.render import to_json, to_markdown
    from sandbox.analysis.sarif import to_sarif

    renderer = {"sarif": to_sarif, "markdown": to_markdown, "json": to_json}[fmt]
    text: str = renderer(report)
    return text if text.endswith("\n") else text + "\n"


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


def _exit_status(report: Any, fail_on: str, say: Any) -> int:
    if not report.complete:
        failed = [f"{run.tool.value}: {run.error}" for run in report.runs if not run.ok]
        say("incomplete analysis: " + "; ".join(failed))
        return 3
    if fail_on == "never":
        return 0
    threshold = FAIL_ON.index(fail_on)
    severe = [f for f in report.findings if f.severity.rank <= threshold]
    return 1 if severe else 0
