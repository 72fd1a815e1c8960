"""The plugin registry: every loaded plugin version, verified, plus those refused and why.

Sources: built-in folders (``plugins/<name_with_underscores>/``), installed distributions'
``dcoder_integrations.plugins`` entry points, and wheels or directories an operator loads at
runtime. Each plugin is verified fail-fast (``plugin_sdk.validation``); a broken one is recorded as
refused and never raises out of discovery, so it can't take the service down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from core.errors import NotFound, PluginValidationError
from plugin_sdk import SDK_API_VERSION, Manifest, Plugin, SemVer, validate_config
from plugin_sdk.validation import verify_plugin
from plugins.catalog import CatalogEntry, render_catalog
from plugins.loading import (
    ENTRY_POINT_GROUP,
    Candidate,
    builtin_candidates,
    entry_point_candidates,
    path_candidates,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginEntry:
    """One verified plugin version in the catalog."""

    manifest: Manifest
    plugin_cls: type[Plugin[Any]]
    origin: str

    @property
    def name(self) -> str:
        """The plugin's name."""
        return self.manifest.name

    @property
    def version(self) -> str:
        """The plugin's semantic version."""
        return self.manifest.version


@dataclass(frozen=True)
class RefusedPlugin:
    """A plugin that failed verification, for operators to see."""

    plugin: str
    origin: str
    why: str
    version: str | None = None


@dataclass
class LoadReport:
    """What one load call loaded and refused."""

    loaded: list[PluginEntry] = field(default_factory=list)
    refused: list[RefusedPlugin] = field(default_factory=list)

    def raise_for_refused(self) -> None:
        """Raise ``PluginValidationError`` for the first refusal, if any."""
        if self.refused:
            first = self.refused[0]
            raise PluginValidationError(first.plugin, f"{first.why} (from {first.origin})")


def _check_placement(entry_name: str, manifest: Manifest, cls: type[Plugin[Any]]) -> None:
    folder = cls.manifest_path().parent.name
    if folder != manifest.module_name:
        why = f"its folder {folder!r} must be {manifest.module_name!r} (name with underscores)"
        raise PluginValidationError(entry_name, why)


def _check_dist_version(name: str, manifest: Manifest, dist_version: str | None) -> None:
    if dist_version is None:
        return
    try:
        same = Version(dist_version) == Version(manifest.version)
    except InvalidVersion:
        same = dist_version == manifest.version
    if not same:
        why = f"distribution version {dist_version} != manifest version {manifest.version}"
        raise PluginValidationError(name, why)


class PluginRegistry:
    """Plugin versions keyed by (name, version), and refusals keyed by origin."""

    def __init__(self, *, sdk_version: str = SDK_API_VERSION) -> None:
        self.sdk_version = sdk_version
        self._entries: dict[tuple[str, str], PluginEntry] = {}
        self._refused: dict[str, RefusedPlugin] = {}
        self._lock = threading.RLock()  # Serve may call sync handlers from a thread pool

    # --- loading --------------------------------------------------------------------------------
    def register(
        self,
        plugin_cls: Any,
        *,
        origin: str = "code",
        expected_name: str | None = None,
        dist_version: str | None = None,
    ) -> PluginEntry:
        """Verify and add one plugin class; ``PluginValidationError`` if refused (also recorded)."""
        label = expected_name or str(getattr(plugin_cls, "__qualname__", plugin_cls))
        try:
            manifest = verify_plugin(
                plugin_cls, sdk_version=self.sdk_version, expected_name=expected_name
            )
        except PluginValidationError as err:
            self._refuse(RefusedPlugin(err.plugin or label, origin, err.why))
            raise
        try:
            _check_placement(manifest.name, manifest, plugin_cls)
            _check_dist_version(manifest.name, manifest, dist_version)
            return self._add(PluginEntry(manifest, plugin_cls, origin))
        except PluginValidationError as err:
            self._refuse(RefusedPlugin(manifest.name, origin, err.why, manifest.version))
            raise

    def _add(self, entry: PluginEntry) -> PluginEntry:
        key = (entry.name, entry.version)
        with self._lock:
            existing = self._entries.get(key)
            if existing is not None and existing.origin != entry.origin:
                why = f"version {entry.version} is already loaded from {existing.origin}"
                raise PluginValidationError(entry.name, why)
            self._entries[key] = existing or entry
            self._refused.pop(entry.origin, None)
            return self._entries[key]

    def _refuse(self, refused: RefusedPlugin) -> None:
        log.warning("plugin %s refused (%s): %s", refused.plugin, refused.origin, refused.why)
        with self._lock:
            self._refused[refused.origin] = refused

    def _load(self, candidates: Iterable[Candidate]) -> LoadReport:
        report = LoadReport()
        for candidate in candidates:
            try:
                cls = candidate.load()
            except PluginValidationError as err:
                refused = RefusedPlugin(candidate.label, candidate.origin, err.why)
            except (Exception, SystemExit) as err:  # boundary: plugin import ran foreign code
                log.warning("plugin %s failed to import", candidate.label, exc_info=True)
                refused = RefusedPlugin(
                    candidate.label, candidate.origin, f"import failed: {type(err).__name__}: {err}"
                )
            else:
                try:
                    report.loaded.append(
                        self.register(
                            cls,
                            origin=candidate.origin,
                            expected_name=candidate.label,
                            dist_version=candidate.dist_version,
                        )
                    )
                except PluginValidationError:
                    report.refused.append(self._refused[candidate.origin])
                continue
            self._refuse(refused)
            report.refused.append(refused)
        return report

    def load_builtins(self) -> LoadReport:
        """Load the built-in plugins (``plugins/<name>/``)."""
        return self._load(builtin_candidates())

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> LoadReport:
        """Load the plugins installed distributions declare as entry points of ``group``."""
        return self._load(entry_point_candidates(group))

    def discover(self) -> LoadReport:
        """Load built-ins and installed plugins; never raises for a broken plugin."""
        report = self.load_builtins()
        more = self.load_entry_points()
        return LoadReport(report.loaded + more.loaded, report.refused + more.refused)

    def load_path(self, path: Path, *, into: Path) -> LoadReport:
        """Load a wheel (unpacked under ``into``) or a directory at runtime, without a restart."""
        try:
            candidates = path_candidates(path, into)
        except PluginValidationError as err:
            refused = RefusedPlugin(err.plugin, f"path:{path.resolve()}", err.why)
            self._refuse(refused)
            return LoadReport(refused=[refused])
        return self._load(candidates)

    def remove(self, name: str, version: str) -> PluginEntry:
        """Take a version out of the catalog (its module stays imported); ``NotFound``."""
        with self._lock:
            entry = self.get(name, version)
            del self._entries[(name, version)]
            return entry

    # --- lookup ---------------------------------------------------------------------------------
    def get(self, name: str, version: str) -> PluginEntry:
        """The entry of ``name`` at ``version``; ``NotFound`` if there is none."""
        entry = self._entries.get((name, version))
        if entry is None:
            raise NotFound(f"plugin {name!r} version {version!r} is not in the catalog")
        return entry

    def versions(self, name: str) -> list[str]:
        """Loaded versions of ``name``, oldest first (semver precedence)."""
        with self._lock:
            found = [v for (n, v) in self._entries if n == name]
        return sorted(found, key=SemVer.parse)

    def latest(self, name: str) -> PluginEntry:
        """The highest release of ``name`` (highest pre-release if there is no release)."""
        versions = self.versions(name)
        if not versions:
            raise NotFound(f"plugin {name!r} is not in the catalog")
        releases = [v for v in versions if not SemVer.parse(v).prerelease]
        return self.get(name, (releases or versions)[-1])

    def names(self) -> list[str]:
        """Names of loaded plugins, sorted."""
        with self._lock:
            return sorted({n for (n, _) in self._entries})

    def entries(self) -> list[PluginEntry]:
        """Every loaded plugin version."""
        with self._lock:
            return list(self._entries.values())

    @property
    def refused(self) -> list[RefusedPlugin]:
        """Every refusal still standing, by origin."""
        with self._lock:
            return list(self._refused.values())

    def catalog(self) -> list[CatalogEntry]:
        """The catalog for a marketplace UI: loaded plugins with versions, plus refused ones."""
        latest = {n: self.latest(n).version for n in self.names()}
        return render_catalog(self.entries(), latest, self.refused)

    def validate_config(self, name: str, version: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check a tenant config against that version's schema; ``ValidationFailed`` (422)."""
        return validate_config(self.get(name, version).manifest, config)
