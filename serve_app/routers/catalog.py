"""The plugin catalog a marketplace UI renders, and runtime loading of plugins (operator)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from core.errors import NotFound, ValidationFailed
from plugins.catalog import CatalogEntry
from serve_app.routers.auth import OperatorDep, PrincipalDep
from serve_app.routers.deps import services
from serve_app.services import Services

router = APIRouter(prefix="/v1/plugins", tags=["catalog"])
ServicesDep = Annotated[Services, Depends(services)]


class LoadSource(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    path: str = Field(description="a wheel file or a plugin directory on the service's machines")


class LoadResult(BaseModel):
    loaded: list[str]
    refused: list[dict[str, str]]


@router.get("", summary="Every plugin with its versions, manifest and config schema")
async def catalog(who: PrincipalDep, svc: ServicesDep) -> list[CatalogEntry]:
    await svc.refresh_sources()
    return svc.registry.catalog()


@router.get("/{name}", summary="One plugin of the catalog")
async def plugin(name: str, who: PrincipalDep, svc: ServicesDep) -> CatalogEntry:
    await svc.refresh_sources()
    for entry in svc.registry.catalog():
        if entry.name == name:
            return entry
    raise NotFound(f"no plugin {name!r} in the catalog")


@router.post(
    "/sources",
    status_code=201,
    summary="Load a plugin at runtime (operator); 422 with the reasons when nothing loads",
)
async def load_source(body: LoadSource, who: OperatorDep, svc: ServicesDep) -> LoadResult:
    path = Path(body.path)
    if not path.is_absolute() or not await asyncio.to_thread(path.exists):
        raise ValidationFailed(
            "path must be an existing absolute path",
            errors=[{"pointer": "/path", "detail": "not an existing absolute path"}],
        )
    report = svc.registry.load_path(path, into=svc.settings.data_dir / "plugins")
    refused = [{"plugin": r.plugin, "why": r.why} for r in report.refused]
    if not report.loaded:
        # Nothing was loaded (a broken pyproject.toml, a wheel that is not a zip, a manifest
        # that disagrees...): the reasons, as a validation failure of the request's path.
        raise ValidationFailed(
            "nothing could be loaded from this path",
            errors=[{"pointer": "/path", "detail": f"{r['plugin']}: {r['why']}"} for r in refused],
        )
    async with svc.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO plugin_sources (path, loaded_by) VALUES ($1, $2)"
            " ON CONFLICT (path) DO NOTHING",
            str(path), who.actor,
        )  # fmt: skip
        record = await svc.audit.record(
            conn, tenant_id=None, actor=who.actor, action="plugin.load", target=str(path),
            details={"loaded": [f"{e.name}@{e.version}" for e in report.loaded]},
        )  # fmt: skip
    await svc.audit.publish(record)
    await svc.hosts.reload_sources()
    return LoadResult(
        loaded=[f"{e.name}@{e.version}" for e in report.loaded],
        refused=refused,
    )
