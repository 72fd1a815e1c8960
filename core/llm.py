"""The LLM gateway: chat completions through litellm with the configured provider.

The model is the tenant's own when it set one (``PUT /v1/tenants/{tenant}/llm``: any litellm model
string, endpoint and key, stored in ``tenant_llm``), else the service's ``DCODER_LLM_*``. Without
either the gateway is disabled and every agent does its deterministic work.

Every completion, failed and timed-out ones included, is recorded in ``llm_usage`` (tenant,
instance, plugin, model, tokens, litellm's cost estimate, latency, outcome); recording never
breaks the call. A tenant's endpoint is checked by the egress guard when it is set and before each
call (resolved, every address checked); litellm's client then resolves the name again itself, so
a DNS answer that changes between the two (rebinding) is not caught.

litellm is imported lazily (it is heavy), off the event loop, with its cost map read locally (no
network at import).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.egress import NO_EXCEPTIONS, AllowList, EgressRefused, check_url, resolve_checked
from core.errors import PermanentError, PluginNotReady, RetryableError
from core.llm_store import LlmCall, LlmUsageStore, TenantLlmStore, TenantModel
from core.settings import LlmSettings

log = logging.getLogger(__name__)

#: Sent as the key of a tenant's model that has none: litellm would otherwise fall back to the
#: host's provider environment variables (OPENAI_API_KEY, ...), lending them to the tenant.
NO_KEY = "none"


@dataclass(frozen=True)
class ModelChoice:
    """What one call uses: the tenant's model or the service's."""

    model: str
    api_base: str | None
    api_key: str | None = field(repr=False)
    timeout_s: float
    tenant_owned: bool


async def check_api_base(url: str, allow: AllowList) -> None:
    """Refuse (EgressRefused) an endpoint whose host is or resolves to a private, loopback,
    link-local, ... address, unless ``DCODER_EGRESS_ALLOW`` lists it."""
    try:
        check_url(url, allow)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await resolve_checked(host, port, allow)
    except ValueError as err:  # a malformed URL, or a name IDNA cannot encode (UnicodeError)
        why = f"outbound request to {url!r} refused: not a valid URL ({err})"
        raise EgressRefused(why) from err


class LlmService:
    """One process's LLM: the service's settings, tenants' own models, the usage ledger.

    ``enabled`` is read synchronously by plugins, so a tenant's model is kept in a small cache,
    refreshed (at most every ``cache_s``) before each hook; a call reads the tenant's model fresh.
    """

    def __init__(
        self,
        settings: LlmSettings,
        *,
        models: TenantLlmStore | None = None,
        usage: LlmUsageStore | None = None,
        allow: AllowList = NO_EXCEPTIONS,
        cache_s: float = 5.0,
    ) -> None:
        self.settings = settings
        self.models = models
        self.usage = usage
        self.allow = allow
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, TenantModel | None]] = {}
        # (tenant, model, outcome) -> [calls, prompt tokens, completion tokens, cost USD] of this
        # process since it started: /metrics sums them over the tenant hosts
        self.counters: dict[tuple[str, str, str], list[float]] = {}

    def gateway(self, tenant_id: str, instance_id: str, plugin: str) -> LiteLlmGateway:
        """``ctx.llm`` of one instance."""
        return LiteLlmGateway(self.settings, service=self, caller=(tenant_id, instance_id, plugin))

    def enabled_for(self, tenant_id: str | None) -> bool:
        cached = self._cache.get(tenant_id or "")
        return (cached is not None and cached[1] is not None) or bool(self.settings.model)

    def forget(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)

    async def refresh(self, tenant_id: str) -> None:
        """Read the tenant's model again when the cached one is older than ``cache_s``."""
        cached = self._cache.get(tenant_id)
        if self.models is None or (cached and time.monotonic() - cached[0] < self.cache_s):
            return
        try:
            await self._read(tenant_id)
        except Exception as err:  # noqa: BLE001 - a hook must not fail for this; calls read again
            log.warning("tenant %s: LLM settings not read: %s", tenant_id, err)

    async def _read(self, tenant_id: str) -> TenantModel | None:
        assert self.models is not None
        own = await self.models.get(tenant_id)
        self._cache[tenant_id] = (time.monotonic(), own)
        return own

    async def choice(self, tenant_id: str | None) -> ModelChoice | None:
        """The model a call of ``tenant_id`` uses now (the tenant's read fresh), or None."""
        if tenant_id is not None and self.models is not None:
            try:
                own = await self._read(tenant_id)
            except Exception as err:  # noqa: BLE001 - never the service's model by accident
                raise RetryableError(f"the tenant's LLM settings could not be read: {err}") from err
            if own is not None:
                return ModelChoice(
                    own.model,
                    own.api_base,
                    own.api_key if own.api_key is not None else NO_KEY,
                    own.timeout_s or self.settings.timeout_s,
                    True,
                )
        if not self.settings.model:
            return None
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        return ModelChoice(
            self.settings.model, self.settings.api_base, key, self.settings.timeout_s, False
        )

    def counters_snapshot(self) -> list[dict[str, Any]]:
        """This process's counters, for the tenant host's stats (``/metrics``)."""
        return [
            {"tenant": t, "model": m, "outcome": o, "calls": c[0], "prompt_tokens": c[1],
             "completion_tokens": c[2], "cost_usd": c[3]}
            for (t, m, o), c in self.counters.items()
        ]  # fmt: skip

    async def record(self, call: LlmCall) -> None:
        """Write one usage row; a failure is logged, never raised."""
        if not call.tenant_id:
            return
        counted = self.counters.setdefault((call.tenant_id, call.model, call.outcome), [0, 0, 0, 0])
        counted[0] += 1
        counted[1] += call.prompt_tokens or 0
        counted[2] += call.completion_tokens or 0
        counted[3] += call.cost_usd or 0.0
        if self.usage is None:
            return
        try:
            await self.usage.record(call)
        except Exception as err:  # noqa: BLE001 - the answer matters more than its ledger row
            log.warning("LLM usage of %s not recorded: %s", call.tenant_id, err)


class LiteLlmGateway:
    """Implements plugin_sdk's LlmGateway protocol on top of ``litellm.acompletion``.

    ``LiteLlmGateway(settings)`` alone is the service's model without a ledger (tests, tools);
    ``LlmService.gateway`` binds one to a tenant's instance."""

    def __init__(
        self,
        settings: LlmSettings,
        *,
        service: LlmService | None = None,
        caller: tuple[str, str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.service = service or LlmService(settings)
        self.tenant_id, self.instance_id, self.plugin = caller or ("", "", "")

    @property
    def enabled(self) -> bool:
        return self.service.enabled_for(self.tenant_id)

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_mode: bool = False,
    ) -> str:
        """The assistant's reply; transient provider failures raise RetryableError."""
        choice = await self.service.choice(self.tenant_id or None)
        if choice is None:
            raise PluginNotReady("no LLM model is configured (DCODER_LLM_MODEL)")
        started = time.monotonic()
        if choice.tenant_owned and choice.api_base:
            try:
                await check_api_base(choice.api_base, self.service.allow)
            except EgressRefused as err:
                await self._record(choice, None, started, f"error:{err.code}")
                raise
        litellm = await _litellm()

        kwargs: dict[str, Any] = {
            "model": choice.model,
            "messages": [dict(m) for m in messages],
            "timeout": choice.timeout_s,
        }
        if choice.api_base:
            kwargs["api_base"] = choice.api_base
        if choice.api_key:
            kwargs["api_key"] = choice.api_key
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if temperature is not None:
            kwargs["temperature"] = temperature
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        started = time.monotonic()
        try:
            response = await litellm.acompletion(**kwargs)
        except asyncio.CancelledError:
            # the caller's deadline (the plugin's LLM timeout, the hook's): a timeout too,
            # recorded in the background while the cancellation goes on
            _background(self._record(choice, None, started, "timeout"))
            raise
        except Exception as err:  # noqa: BLE001 - litellm raises many provider-specific types
            await self._record(choice, None, started, call_outcome(err))
            raise classify_llm_error(err) from err
        await self._record(choice, response, started, "ok")
        return str(response.choices[0].message.content or "")

    async def _record(
        self, choice: ModelChoice, response: Any, started: float, outcome: str
    ) -> None:
        prompt, completion = usage_tokens(response)
        await self.service.record(
            LlmCall(
                tenant_id=self.tenant_id, instance_id=self.instance_id, plugin=self.plugin,
                model=choice.model, prompt_tokens=prompt, completion_tokens=completion,
                cost_usd=await response_cost(response), outcome=outcome,
                latency_ms=round((time.monotonic() - started) * 1000, 1),
            )
        )  # fmt: skip


_pending: set[asyncio.Task[None]] = set()


def _background(work: Any) -> None:
    task = asyncio.ensure_future(work)
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def usage_tokens(response: Any) -> tuple[int | None, int | None]:
    """(prompt, completion) tokens of a litellm response's ``usage``; None where absent."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return None, None
    prompt = getattr(usage, "prompt_tokens", None)
    completion = getattr(usage, "completion_tokens", None)
    return (
        prompt if isinstance(prompt, int) else None,
        completion if isinstance(completion, int) else None,
    )


async def response_cost(response: Any) -> float | None:
    """litellm's cost estimate in USD of a response; None when the model has no price."""
    if response is None:
        return None
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
    if cost is None:
        try:
            cost = (await _litellm()).completion_cost(completion_response=response)
        except Exception:  # noqa: BLE001 - unpriced models (local endpoints) raise
            return None
    return float(cost) if isinstance(cost, int | float) and cost >= 0 else None


def call_outcome(err: BaseException) -> str:
    """``timeout`` or ``error:<kind>`` (the provider error's class name) of a failed call."""
    if isinstance(err, TimeoutError) or "timeout" in type(err).__name__.lower():
        return "timeout"
    return f"error:{type(err).__name__}"[:100]


async def _litellm() -> Any:
    """litellm, imported in a thread the first time: the import takes seconds of CPU, and on the
    event loop it would stall every instance the tenant host runs (seen: ~3 s of a review's
    first LLM call in ``bench/bench_bitbucket.py``)."""
    module = sys.modules.get("litellm")
    if module is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        module = await asyncio.to_thread(importlib.import_module, "litellm")
    return module


#: Provider statuses worth another try later: timeouts, conflicts, rate limits and 5xx.
_RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


def classify_llm_error(err: BaseException) -> PermanentError | RetryableError:
    """A provider failure as a typed error: auth and bad requests are permanent (retrying the
    same call cannot help); timeouts, connection failures, 429 and 5xx are retryable."""
    status = getattr(err, "status_code", None)
    what = f"LLM call failed: {type(err).__name__}: {err}"
    if isinstance(status, int) and 400 <= status < 500 and status not in _RETRYABLE_STATUSES:
        return PermanentError(what, llm_status=status)
    return RetryableError(what, **({"llm_status": status} if isinstance(status, int) else {}))
