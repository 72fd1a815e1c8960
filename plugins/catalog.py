"""Catalog documents of the registry, shaped for a marketplace UI and the operator API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from plugin_sdk import Capability, SemVer

if TYPE_CHECKING:
    from plugins.registry import PluginEntry, RefusedPlugin


class CatalogVersion(BaseModel):
    """One loaded version of a plugin."""

    version: str
    origin: str
    manifest: dict[str, Any]


class RefusedInfo(BaseModel):
    """One refusal of a plugin, with its reason."""

    origin: str
    why: str
    version: str | None = None


class CatalogEntry(BaseModel):
    """One plugin as the marketplace shows it."""

    name: str
    status: Literal["ok", "refused"]
    latest: str | None = None
    versions: list[str] = Field(default_factory=list)
    description: str = ""
    capabilities: list[Capability] = Field(default_factory=list)
    config_schema: dict[str, Any] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list)
    details: list[CatalogVersion] = Field(default_factory=list)
    refused: list[RefusedInfo] = Field(default_factory=list)


def render_catalog(
    entries: Iterable[PluginEntry], latest: Mapping[str, str], refused: Iterable[RefusedPlugin]
) -> list[CatalogEntry]:
    """Group entries by name (described by their latest version) and add refused plugins."""
    by_name: dict[str, list[PluginEntry]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, []).append(entry)
    out: dict[str, CatalogEntry] = {}
    for name, group in by_name.items():
        group.sort(key=lambda e: SemVer.parse(e.version))
        top = next(e for e in group if e.version == latest[name]).manifest
        out[name] = CatalogEntry(
            name=name,
            status="ok",
            latest=top.version,
            versions=[e.version for e in group],
            description=top.description,
            capabilities=sorted(top.capabilities),
            config_schema=top.config_schema,
            secrets=top.secret_names(),
            details=[
                CatalogVersion(
                    version=e.version, origin=e.origin, manifest=e.manifest.model_dump(mode="json")
                )
                for e in group
            ],
        )
    for item in refused:
        shown = out.setdefault(item.plugin, CatalogEntry(name=item.plugin, status="refused"))
        shown.refused.append(RefusedInfo(origin=item.origin, why=item.why, version=item.version))
    return sorted(out.values(), key=lambda e: e.name)
