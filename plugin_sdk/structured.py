"""Structured LLM answers: find the JSON in a reply, validate it, repair once, else give up.

Models wrap JSON in code fences, add a sentence after it, or stop mid-object when they run out of
tokens. ``parse_structured`` strips fences and surrounding prose and validates the object with a
pydantic model; ``ask_structured`` asks once, and on an unusable reply asks once more with the
reason, then returns ``None`` with a note (the caller falls back to its deterministic result).
Nothing here speaks to a network: the SDK's ``LlmGateway`` does, so tests script the replies.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import IntegrationsError
from plugin_sdk.protocols import LlmGateway

M = TypeVar("M", bound=BaseModel)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)(?:```|\Z)", re.DOTALL)
REPLY_ECHO_CHARS = 4000  # how much of a bad reply goes back to the model on the retry


class AnswerInvalid(ValueError):
    """The reply is not a usable answer; ``reason`` goes back to the model on the retry."""

    def __init__(self, reason: str, *, truncated: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.truncated = truncated


def _balanced_object(text: str) -> str | None:
    """The first complete top-level JSON object in ``text`` (strings and escapes respected)."""
    start = text.find("{")
    if start < 0:
        return None
    depth, in_string, escaped = 0, False, False
    for position in range(start, len(text)):
        char = text[position]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start : position + 1]
    return None


def extract_json(raw: str) -> str:
    """The JSON object inside a reply: fences and text before or after it removed."""
    fenced = _FENCE.search(raw)
    body = fenced.group(1) if fenced else raw
    found = _balanced_object(body)
    if found is None:
        truncated = "{" in body
        raise AnswerInvalid(
            "the JSON object is incomplete (cut off)" if truncated else "no JSON object found",
            truncated=truncated,
        )
    return found


def parse_structured(raw: str, model: type[M]) -> M:
    """A validated ``model`` from a model's reply, or ``AnswerInvalid`` saying why not."""
    text = extract_json(raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise AnswerInvalid(f"not valid JSON: {err.msg} at character {err.pos}") from err
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
            for e in err.errors()[:5]
        )
        raise AnswerInvalid(f"does not match the schema: {problems}") from err


def schema_text(model: type[BaseModel]) -> str:
    """The model's JSON Schema, compact, for a prompt."""
    return json.dumps(model.model_json_schema(), separators=(",", ":"))


@dataclass(frozen=True)
class Structured(Generic[M]):
    """The validated answer, or ``None`` and a note saying why the caller's fallback is used."""

    answer: M | None
    note: str | None
    attempts: int


async def ask_structured(
    llm: LlmGateway,
    messages: Sequence[Mapping[str, str]],
    model: type[M],
    *,
    timeout_s: float = 60.0,
    max_tokens: int = 1500,
) -> Structured[M]:
    """Ask once; on an unusable reply ask once more with the reason; else give up with a note."""
    history = [dict(m) for m in messages]
    reason = ""
    for attempt in (1, 2):
        try:
            async with asyncio.timeout(timeout_s):
                reply = await llm.complete(
                    history, max_tokens=max_tokens, temperature=0.0, json_mode=True
                )
        except TimeoutError:
            return Structured(None, f"the LLM did not answer within {timeout_s:g} s", attempt)
        except IntegrationsError as err:
            return Structured(None, f"the LLM call failed ({err.code})", attempt)
        try:
            return Structured(parse_structured(reply, model), None, attempt)
        except AnswerInvalid as err:
            reason = err.reason
            history += [
                {"role": "assistant", "content": reply[:REPLY_ECHO_CHARS]},
                {
                    "role": "user",
                    "content": f"That answer was not usable: {err.reason}. Reply again with "
                    "the complete JSON object only, shorter if needed.",
                },
            ]
    return Structured(None, f"the LLM's answer was unusable twice ({reason})", 2)
