"""`dcoder-integrations plugin ...`: scaffold, check and list plugins.

Extend by adding a ``_add_<command>(plugin_commands)`` function and listing it in
``SUBCOMMANDS``; each sets ``func`` to a handler taking the namespace and returning an exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[Any]


def _new(args: argparse.Namespace) -> int:
    from core.errors import IntegrationsError
    from plugin_sdk.scaffold import new_plugin_project, next_steps

    try:
        root = new_plugin_project(args.name, Path(args.dir))
    except IntegrationsError as err:
        print(f"error: {err.detail}", file=sys.stderr)
        return 1
    print(f"created {root}\n{next_steps(args.name, root)}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from plugins.registry import PluginRegistry

    registry = PluginRegistry()
    with tempfile.TemporaryDirectory(prefix="plugin-check-") as scratch:
        report = registry.load_path(Path(args.path), into=Path(scratch))
    for entry in report.loaded:
        print(f"ok       {entry.name} {entry.version}")
    for refused in report.refused:
        print(f"refused  {refused.plugin}: {refused.why}")
    return 1 if report.refused or not report.loaded else 0


def _list(args: argparse.Namespace) -> int:
    from plugins.registry import PluginRegistry

    registry = PluginRegistry()
    registry.discover()
    catalog = registry.catalog()
    if args.json:
        print(json.dumps([entry.model_dump(mode="json") for entry in catalog], indent=2))
        return 0
    for entry in catalog:
        versions = ", ".join(entry.versions) or "-"
        print(f"{entry.name:<28} {entry.status:<8} {versions}")
        for refused in entry.refused:
            print(f"    refused ({refused.origin}): {refused.why}")
    return 0


def _add_new(commands: Subparsers) -> None:
    parser = commands.add_parser("new", help="write a new plugin project with tests")
    parser.add_argument("name", help="plugin name: lowercase words joined by dashes")
    parser.add_argument("--dir", default=".", help="parent folder of the project (default: .)")
    parser.set_defaults(func=_new)


def _add_check(commands: Subparsers) -> None:
    parser = commands.add_parser("check", help="verify a plugin wheel or directory")
    parser.add_argument("path", help="a .whl file, a project folder or a plugin package folder")
    parser.set_defaults(func=_check)


def _add_list(commands: Subparsers) -> None:
    parser = commands.add_parser("list", help="list built-in and installed plugins")
    parser.add_argument("--json", action="store_true", help="print the catalog as JSON")
    parser.set_defaults(func=_list)


SUBCOMMANDS: list[Callable[[Subparsers], None]] = [_add_new, _add_check, _add_list]


def register(subparsers: Subparsers) -> None:
    """Add the ``plugin`` command group and its subcommands."""
    group = subparsers.add_parser("plugin", help="plugin development and catalog")
    group.set_defaults(func=lambda _args: (group.print_help(), 2)[1])
    commands = group.add_subparsers(dest="plugin_command", metavar="SUBCOMMAND")
    for add in SUBCOMMANDS:
        add(commands)
