"""Finding plugin classes: built-in folders, installed entry points, wheels and directories.

Each finder returns ``Candidate`` objects whose ``load()`` imports the plugin class; the registry
calls it, verifies the result and records a refusal instead of raising. Wheels and directories are
imported under a module name unique per (package, version), so two versions of one plugin coexist
in one process; such plugins must use relative imports inside their own package.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
import shutil
import sys
import tempfile
import tomllib
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, PathDistribution, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from core.errors import PluginValidationError
from plugin_sdk import Plugin

ENTRY_POINT_GROUP = "dcoder_integrations.plugins"
BUILTIN_DIR = Path(__file__).resolve().parent
WHEEL_RE = re.compile(r"^(?P<dist>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


@dataclass(frozen=True)
class Candidate:
    """A plugin class that can be imported, and what its manifest must agree with."""

    label: str  # the plugin name it must have (folder, entry point), for messages
    origin: str  # where it comes from, e.g. "builtin:plugins.jira", "wheel:/x/acme-1.0.0.whl"
    load: Callable[[], Any]
    dist_version: str | None = None  # version of the distribution that ships it


def plugin_class_of(module: ModuleType) -> type[Plugin[Any]]:
    """The one ``Plugin`` subclass defined in ``module`` (folder layout rule)."""
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Plugin) and obj.__module__ == module.__name__
    ]
    if len(found) != 1:
        names = ", ".join(c.__name__ for c in found) or "none"
        raise PluginValidationError(
            module.__name__, f"plugin.py must define exactly one Plugin subclass (found {names})"
        )
    return found[0]


def builtin_candidates(root: Path = BUILTIN_DIR, package: str = "plugins") -> list[Candidate]:
    """Every ``<root>/<name_with_underscores>/`` holding a ``manifest.json``."""
    out = []
    for folder in sorted(p for p in root.iterdir() if (p / "manifest.json").is_file()):
        module = f"{package}.{folder.name}.plugin"
        out.append(
            Candidate(
                label=folder.name.replace("_", "-"),
                origin=f"builtin:{package}.{folder.name}",
                load=lambda m=module: plugin_class_of(importlib.import_module(m)),  # type: ignore[misc]
            )
        )
    return out


def entry_point_candidates(group: str = ENTRY_POINT_GROUP) -> list[Candidate]:
    """Every entry point of ``group`` in the installed distributions."""
    out = []
    for ep in entry_points(group=group):
        dist = ep.dist
        out.append(
            Candidate(
                label=ep.name,
                origin=f"entry-point:{dist.name if dist else '?'}:{ep.value}",
                load=ep.load,
                dist_version=dist.version if dist else None,
            )
        )
    return out


def _alias(package: str, version: str, origin: str) -> str:
    # unique per (package, version, source): two versions, or two copies of one, never collide
    digest = hashlib.sha256(origin.encode()).hexdigest()[:8]
    return f"_dcoder_plugin_{package}__v{re.sub(r'[^0-9A-Za-z]', '_', version)}__{digest}"


def import_aliased(package_dir: Path, alias: str, submodule: str = "") -> ModuleType:
    """Import the package in ``package_dir`` as ``alias`` (once), then ``alias.submodule``."""
    if alias not in sys.modules:
        init = package_dir / "__init__.py"
        if not init.is_file():
            raise PluginValidationError(package_dir.name, f"{package_dir} has no __init__.py")
        spec = importlib.util.spec_from_file_location(
            alias, init, submodule_search_locations=[str(package_dir)]
        )
        assert spec is not None and spec.loader is not None  # a file location always has both
        module = importlib.util.module_from_spec(spec)
        sys.modules[alias] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[alias]
            raise
    return importlib.import_module(f"{alias}.{submodule}" if submodule else alias)


def _aliased_entry_point(root: Path, ep: EntryPoint, version: str, origin: str) -> Candidate:
    top, _, rest = ep.module.partition(".")

    def load() -> Any:
        module = import_aliased(root / top, _alias(top, version, origin), rest)
        target: Any = module
        for part in (ep.attr or "").split("."):
            target = getattr(target, part)
        return target

    return Candidate(label=ep.name, origin=origin, load=load, dist_version=version)


def _extract(wheel: Path, staging: Path) -> None:
    """Extract every member of ``wheel`` into ``staging``; refuse a broken or unsafe archive."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                resolved = (staging / member).resolve()
                if not resolved.is_relative_to(staging.resolve()):
                    raise PluginValidationError(wheel.name, f"unsafe path in wheel: {member!r}")
            archive.extractall(staging)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        NotImplementedError,
        zlib.error,
    ) as err:
        raise PluginValidationError(wheel.name, f"not a valid wheel (zip): {err}") from err


def unpack_wheel(wheel: Path, into: Path) -> Path:
    """Extract ``wheel`` to ``into/<dist>-<version>`` once (atomic rename); that folder."""
    match = WHEEL_RE.match(wheel.name)
    if match is None:
        raise PluginValidationError(wheel.name, "not a wheel file name (dist-version-...whl)")
    target = into / f"{match['dist']}-{match['version']}"
    if target.is_dir():
        return target
    into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=into))
    try:
        _extract(wheel, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # nothing half-unpacked stays behind
        raise
    try:
        staging.rename(target)
    except OSError:  # another process unpacked the same wheel first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def wheel_candidates(wheel: Path, into: Path) -> list[Candidate]:
    """Plugins a wheel declares in its entry points, imported from an unpacked copy."""
    root = unpack_wheel(wheel, into)
    infos = list(root.glob("*.dist-info"))
    if len(infos) != 1:
        raise PluginValidationError(wheel.name, "wheel has no single .dist-info folder")
    dist = PathDistribution(infos[0])
    eps = dist.entry_points.select(group=ENTRY_POINT_GROUP)
    if not eps:
        raise PluginValidationError(wheel.name, f"no {ENTRY_POINT_GROUP} entry point")
    origin = f"wheel:{wheel.resolve()}"
    return [_aliased_entry_point(root, ep, dist.version, origin) for ep in eps]


def _project_table(directory: Path, pyproject: Path) -> dict[str, Any]:
    """The ``[project]`` table of a pyproject.toml; a broken file is a refusal with the reason."""
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise PluginValidationError(
            directory.name, f"pyproject.toml is not valid TOML: {err}"
        ) from err
    project = document.get("project", {})
    if not isinstance(project, dict):
        raise PluginValidationError(directory.name, "pyproject.toml: [project] is not a table")
    return project


def _project_candidates(directory: Path, pyproject: Path) -> list[Candidate]:
    project = _project_table(directory, pyproject)
    version = str(project.get("version", ""))
    if not version:
        raise PluginValidationError(directory.name, "pyproject.toml has no static version")
    groups = project.get("entry-points", {})
    group = groups.get(ENTRY_POINT_GROUP, {}) if isinstance(groups, dict) else None
    if not group or not isinstance(group, dict):
        raise PluginValidationError(directory.name, f"no {ENTRY_POINT_GROUP} entry point table")
    root = directory / "src" if (directory / "src").is_dir() else directory
    origin = f"directory:{directory.resolve()}"
    return [
        _aliased_entry_point(root, EntryPoint(name, value, ENTRY_POINT_GROUP), version, origin)
        for name, value in group.items()
    ]


def directory_candidates(directory: Path) -> list[Candidate]:
    """A project folder (pyproject.toml with entry points) or a plugin package folder."""
    if (directory / "pyproject.toml").is_file():
        return _project_candidates(directory, directory / "pyproject.toml")
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        raise PluginValidationError(directory.name, "neither pyproject.toml nor manifest.json here")
    try:
        version = str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (ValueError, KeyError, TypeError) as err:
        raise PluginValidationError(directory.name, f"manifest.json has no version: {err}") from err
    origin = f"directory:{directory.resolve()}"
    alias = _alias(directory.name, version, origin)
    return [
        Candidate(
            label=directory.name.replace("_", "-"),
            origin=origin,
            load=lambda: plugin_class_of(import_aliased(directory, alias, "plugin")),
        )
    ]


def path_candidates(path: Path, into: Path) -> list[Candidate]:
    """Candidates of a wheel file (unpacked under ``into``) or a directory."""
    if path.is_file():
        return wheel_candidates(path, into)
    if path.is_dir():
        return directory_candidates(path)
    raise PluginValidationError(path.name, f"{path} is neither a wheel nor a directory")
