"""A tenant's LLM: its own model (overriding the service's ``DCODER_LLM_*``) and its usage.

The key is write-only (stored encrypted, never returned). A tenant's ``api_base`` is checked by
the egress guard here (422 when it names or resolves to a private, loopback, link-local, ...
address that ``DCODER_EGRESS_ALLOW`` does not list) and again before every call. A call reads
the tenant's model fresh; a change also makes the tenant's host drop its live objects (as after
idle passivation), so ``ctx.llm.enabled`` sees it at once rather than within the host's 5 s cache.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from core.egress import AllowList, EgressRefused
from core.errors import ValidationFailed
from core.llm import check_api_base
from core.llm_store import LlmUsage, TenantModel
from serve_app.routers.auth import TenantDep
from serve_app.routers.deps import IsoDateTime, services
from serve_app.services import Services

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/tenants/{tenant}/llm", tags=["llm"])
ServicesDep = Annotated[Services, Depends(services)]


class TenantLlm(BaseModel):
    """The tenant's own model; every call of its agents uses it instead of the service's."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str = Field(
        min_length=1, max_length=200,
        description="any litellm model string: openai/gpt-4o-mini, anthropic/claude-3-5-haiku-"
        "20241022, azure/<deployment>, bedrock/<model id>, ollama/llama3, openai/<name> for an "
        "OpenAI-compatible endpoint",
    )  # fmt: skip
    api_base: str | None = Field(
        None, min_length=1, max_length=2000, pattern=r"^https?://[^\s/?#]+(?:[/?#]\S*)?$",
        description="the provider's endpoint (http or https); a host that does not resolve, or "
        "resolves to a private, loopback or link-local address, is refused with 422 unless "
        "DCODER_EGRESS_ALLOW lists it",
    )  # fmt: skip
    api_key: str | None = Field(
        None, min_length=1, max_length=4000, description="write-only; stored encrypted"
    )
    timeout_s: float | None = Field(
        None, gt=0, le=600, description="timeout of one completion (unset: DCODER_LLM_TIMEOUT_S)"
    )


class TenantLlmView(BaseModel):
    """The model the tenant's agents use now (never the key)."""

    source: Literal["tenant", "service", "none"] = Field(
        description="the tenant's own model, the service's (DCODER_LLM_*), or none configured"
    )
    model: str | None
    api_base: str | None = Field(description="the tenant's endpoint (the service's is not shown)")
    api_key_set: bool
    timeout_s: float
    updated_at: datetime | None


def _view(svc: Services, own: TenantModel | None) -> TenantLlmView:
    global_ = svc.settings.llm
    if own is None:
        return TenantLlmView(
            source="service" if global_.model else "none", model=global_.model, api_base=None,
            api_key_set=global_.api_key is not None, timeout_s=global_.timeout_s, updated_at=None,
        )  # fmt: skip
    return TenantLlmView(
        source="tenant", model=own.model, api_base=own.api_base,
        api_key_set=own.api_key is not None, timeout_s=own.timeout_s or global_.timeout_s,
        updated_at=own.updated_at,
    )  # fmt: skip


async def _changed(svc: Services, tenant: str) -> None:
    """The tenant's host reads the tenant's model again (its runtime rebuilt on the next use)."""
    try:
        await svc.hosts.forget(tenant, 10.0)
    except Exception as err:  # noqa: BLE001 - the change stands; the host's cache expires in 5 s
        log.warning("tenant %s: LLM change not pushed to its host: %s", tenant, err)


@router.get("", summary="The model the tenant's agents use (never the key)")
async def get_llm(tenant: str, who: TenantDep, svc: ServicesDep) -> TenantLlmView:
    return _view(svc, await svc.llm_models.get(tenant))


@router.put("", summary="Set the tenant's own model, endpoint and key")
async def put_llm(tenant: str, body: TenantLlm, who: TenantDep, svc: ServicesDep) -> TenantLlmView:
    if body.api_base is None and body.api_key is None:
        raise ValidationFailed(
            "a model without api_base goes to its provider's public API and needs the tenant's "
            "own api_key (the service's provider credentials are never lent to a tenant)",
            errors=[{"pointer": "/api_key", "detail": "required when api_base is not given"}],
        )
    if body.api_base is not None:
        try:
            allow = AllowList.parse(svc.settings.egress.allow.split(","))
            await check_api_base(body.api_base, allow)
        except EgressRefused as err:
            raise ValidationFailed(
                "api_base is not reachable for plugins",
                errors=[{"pointer": "/api_base", "detail": err.detail}],
            ) from err
    own = TenantModel(body.model, body.api_base, body.api_key, body.timeout_s)
    updated = await svc.llm_models.put(tenant, own)
    async with svc.db.transaction() as conn:
        record = await svc.audit.record(
            conn, tenant_id=tenant, actor=who.actor, action="llm.configure", target=tenant,
            details={"model": body.model, "api_base": body.api_base,
                     "api_key_set": body.api_key is not None},
        )  # fmt: skip
    await svc.audit.publish(record)
    await _changed(svc, tenant)
    return _view(svc, dataclasses.replace(own, updated_at=updated))


@router.delete("", status_code=204, summary="Drop the tenant's model (the service's applies)")
async def delete_llm(tenant: str, who: TenantDep, svc: ServicesDep) -> Response:
    await svc.llm_models.delete(tenant)
    async with svc.db.transaction() as conn:
        record = await svc.audit.record(
            conn, tenant_id=tenant, actor=who.actor, action="llm.reset", target=tenant
        )
    await svc.audit.publish(record)
    await _changed(svc, tenant)
    return Response(status_code=204)


@router.get("/usage", summary="LLM calls of the tenant: totals per model and instance, latest")
async def llm_usage(
    tenant: str,
    who: TenantDep,
    svc: ServicesDep,
    since: Annotated[
        IsoDateTime | None, Query(description="only calls at or after this time")
    ] = None,
    before: Annotated[int | None, Query(ge=1, description="calls with a smaller id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="latest calls per page")] = 100,
) -> LlmUsage:
    return await svc.llm_usage.usage(tenant, since=since, before=before, limit=limit)
