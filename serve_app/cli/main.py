"""Entry point of the `dcoder-integrations` console script.

Each module in COMMAND_MODULES exposes ``register(subparsers)``, which adds its subcommands and sets
``func`` (a callable taking the parsed namespace and returning an exit code). Modules import their
heavy dependencies inside the handlers so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    "serve_app.cli.runtime",  # up, down, status, migrate
    "serve_app.cli.plugins",  # plugin new / load / list
    "serve_app.cli.estimate",  # estimate, estimate-eval
    "serve_app.cli.review",  # review
    "serve_app.cli.simulate",  # simulate
    "serve_app.cli.secrets",  # secrets rotate-key
    "serve_app.cli.webhook",  # webhook send
)


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser from every command module."""
    parser = argparse.ArgumentParser(
        prog="dcoder-integrations",
        description="Integrations Service of the dcoder platform: Atlassian plugins, AI agents.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
