"""The LLM gateway: chat completions through litellm with whatever provider is configured.

Without ``DCODER_LLM_MODEL`` the gateway is disabled and every agent does its deterministic work.
litellm is imported lazily (it is heavy) with its cost map read locally (no network at import).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import PluginNotReady, RetryableError
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
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

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
            raise RetryableError(f"LLM call failed: {type(err).__name__}: {err}") from err
        return str(response.choices[0].message.content or "")
