"""The LLM gateway's tables (``llm_usage`` and ``tenant_llm``, named only here).

``LlmUsageStore`` writes one row per completion and reads a tenant's totals and latest calls;
``TenantLlmStore`` keeps a tenant's own model, endpoint and key (the key encrypted with the
platform's ``SecretBox``, bound to ``<tenant>/llm`` so a blob copied to another tenant's row never
decrypts; never logged, never returned by the API).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field

from core.crypto import SecretBox
from core.db import Database
from core.errors import NotFound


def llm_key_aad(tenant_id: str) -> bytes:
    """The AAD binding a tenant's LLM key ciphertext to its tenant."""
    return f"{tenant_id}/llm".encode()


@dataclass(frozen=True)
class LlmCall:
    """One completion the gateway made (what ``llm_usage`` records)."""

    tenant_id: str
    instance_id: str
    plugin: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_ms: float
    outcome: str  # "ok", "timeout" or "error:<kind>"


class UsageRow(BaseModel):
    """One recorded call as the API shows it."""

    id: int
    at: datetime
    instance_id: str
    plugin: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None = Field(description="litellm's estimate; null when unpriced")
    latency_ms: float
    outcome: str = Field(description="ok, timeout or error:<kind>")


class UsageTotal(BaseModel):
    """Calls and tokens of one model or one instance over the window."""

    key: str = Field(description="the model string or the instance id")
    calls: int
    failed: int = Field(description="calls whose outcome is not ok (timeouts included)")
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = Field(description="sum of the priced calls; null when none was")


class LlmUsage(BaseModel):
    """A tenant's LLM usage since ``since``: totals and the latest calls (newest first)."""

    since: datetime | None
    by_model: list[UsageTotal]
    by_instance: list[UsageTotal]
    calls: list[UsageRow]
    next_before: int | None = Field(
        description="pass as ?before= for the next page of calls; null on the last page"
    )


_INSERT = """
INSERT INTO llm_usage (tenant_id, instance_id, plugin, model, prompt_tokens, completion_tokens,
                       cost_usd, latency_ms, outcome)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_TOTALS = """
SELECT {key} AS key, count(*) AS calls, count(*) FILTER (WHERE outcome <> 'ok') AS failed,
       coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
       coalesce(sum(completion_tokens), 0) AS completion_tokens, sum(cost_usd) AS cost_usd
FROM llm_usage WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR at >= $2)
GROUP BY 1 ORDER BY calls DESC, key
"""
_CALLS = """
SELECT id, at, instance_id, plugin, model, prompt_tokens, completion_tokens, cost_usd,
       latency_ms, outcome
FROM llm_usage
WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::bigint IS NULL OR id < $3)
ORDER BY id DESC LIMIT $4
"""


class LlmUsageStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, call: LlmCall) -> None:
        await self.db.execute(
            _INSERT, call.tenant_id, call.instance_id, call.plugin, call.model,
            call.prompt_tokens, call.completion_tokens, call.cost_usd, call.latency_ms,
            call.outcome,
        )  # fmt: skip

    async def usage(
        self, tenant_id: str, *, since: datetime | None, before: int | None, limit: int
    ) -> LlmUsage:
        by_model = await self.db.fetch(_TOTALS.format(key="model"), tenant_id, since)
        by_instance = await self.db.fetch(_TOTALS.format(key="instance_id"), tenant_id, since)
        rows = await self.db.fetch(_CALLS, tenant_id, since, before, limit + 1)
        calls = [UsageRow(**dict(r)) for r in rows[:limit]]
        return LlmUsage(
            since=since,
            by_model=[UsageTotal(**dict(r)) for r in by_model],
            by_instance=[UsageTotal(**dict(r)) for r in by_instance],
            calls=calls,
            next_before=calls[-1].id if len(rows) > limit else None,
        )


@dataclass(frozen=True)
class TenantModel:
    """A tenant's own model; ``api_key`` never appears in its repr."""

    model: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float | None = None
    updated_at: datetime | None = None


_UPSERT = """
INSERT INTO tenant_llm (tenant_id, model, api_base, api_key, key_id, timeout_s)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id) DO UPDATE SET
    model = EXCLUDED.model, api_base = EXCLUDED.api_base, api_key = EXCLUDED.api_key,
    key_id = EXCLUDED.key_id, timeout_s = EXCLUDED.timeout_s, updated_at = now()
RETURNING updated_at
"""


class TenantLlmStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    async def get(self, tenant_id: str) -> TenantModel | None:
        row = await self.db.fetchrow(
            "SELECT model, api_base, api_key, timeout_s, updated_at FROM tenant_llm"
            " WHERE tenant_id = $1",
            tenant_id,
        )
        if row is None:
            return None
        key = row["api_key"]
        return TenantModel(
            model=row["model"],
            api_base=row["api_base"],
            api_key=None if key is None else self.box.decrypt(key, aad=llm_key_aad(tenant_id)),
            timeout_s=row["timeout_s"],
            updated_at=row["updated_at"],
        )

    async def put(self, tenant_id: str, model: TenantModel) -> datetime:
        blob = key_id = None
        if model.api_key is not None:
            blob, key_id = self.box.encrypt(model.api_key, aad=llm_key_aad(tenant_id))
        updated: datetime = await self.db.fetchval(
            _UPSERT, tenant_id, model.model, model.api_base, blob, key_id, model.timeout_s
        )
        return updated

    async def delete(self, tenant_id: str) -> None:
        status = await self.db.execute("DELETE FROM tenant_llm WHERE tenant_id = $1", tenant_id)
        if status.endswith(" 0"):
            raise NotFound(f"tenant {tenant_id!r} has no model of its own")


async def rewrap_llm_keys(db: Database, box: SecretBox) -> int:
    """Re-encrypt every tenant LLM key not under the newest key; how many were."""
    rows = await db.fetch(
        "SELECT tenant_id, api_key FROM tenant_llm WHERE api_key IS NOT NULL AND key_id <> $1",
        box.newest_key_id,
    )
    for row in rows:
        blob, key_id = box.rewrap(row["api_key"], aad=llm_key_aad(row["tenant_id"]))
        await db.execute(
            "UPDATE tenant_llm SET api_key = $2, key_id = $3 WHERE tenant_id = $1",
            row["tenant_id"], blob, key_id,
        )  # fmt: skip
    return len(rows)
