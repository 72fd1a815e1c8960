"""The LLM gateway: chat completions through litellm with whatever provider is configured.

Without ``DCODER_LLM_MODEL`` the gateway is disabled and every agent does its deterministic work.
litellm is imported lazily (it is heavy), off the event loop, with its cost map read locally (no
network at import).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import PermanentError, PluginNotReady, RetryableError
from core.settings import LlmSettings


class LiteLlmGateway:
    """Implements plugin_sdk's LlmGateway protocol on top of ``litellm.acompletion``."""

    def __init__(self, settings: LlmSettings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.model)

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_mode: bool = False,
    ) -> str:
        """The assistant's reply; transient provider failures raise RetryableError."""
        if not self.settings.model:
            raise PluginNotReady("no LLM model is configured (DCODER_LLM_MODEL)")
        litellm = await _litellm()

        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "messages": [dict(m) for m in messages],
            "timeout": self.settings.timeout_s,
        }
        if self.settings.api_base:
            kwargs["api_base"] = self.settings.api_base
        if self.settings.api_key:
            kwargs["api_key"] = self.settings.api_key.get_secret_value()
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if temperature is not None:
            kwargs["temperature"] = temperature
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            response = await litellm.acompletion(**kwargs)
        except Exception as err:  # noqa: BLE001 - litellm raises many provider-specific types
            raise classify_llm_error(err) from err
        return str(response.choices[0].message.content or "")


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
