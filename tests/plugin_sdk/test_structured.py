"""plugin_sdk.structured: JSON found in replies, validated, retried once, given up with a note."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest
from pydantic import BaseModel

from plugin_sdk import PluginNotReady
from plugin_sdk.memory import ScriptedLlm
from plugin_sdk.structured import AnswerInvalid, ask_structured, extract_json, parse_structured


class Answer(BaseModel):
    verdict: str
    score: int


def test_extract_json_from_fences_and_prose() -> None:
    assert extract_json('Here: ```json\n{"a": "}"}\n``` done') == '{"a": "}"}'
    assert extract_json('x {"a": {"b": 1}} y {"c": 2}') == '{"a": {"b": 1}}'
    with pytest.raises(AnswerInvalid) as cut:
        extract_json('{"a": [1, 2')
    assert cut.value.truncated
    with pytest.raises(AnswerInvalid, match="no JSON object"):
        extract_json("no idea")


def test_parse_structured_names_the_schema_problem() -> None:
    assert parse_structured('{"verdict": "ok", "score": 3}', Answer).score == 3
    with pytest.raises(AnswerInvalid, match="score"):
        parse_structured('{"verdict": "ok", "score": "high"}', Answer)
    with pytest.raises(AnswerInvalid, match="not valid JSON"):
        parse_structured("{'verdict': 'ok'}", Answer)


async def test_retry_once_then_give_up() -> None:
    good = await ask_structured(
        ScriptedLlm(['{"verdict": "x"}', '{"verdict": "x", "score": 1}']), [], Answer
    )
    assert good.answer is not None and good.attempts == 2
    bad = await ask_structured(ScriptedLlm(["nope", "still nope"]), [], Answer)
    assert bad.answer is None and bad.attempts == 2
    assert bad.note == "the LLM's answer was unusable twice (no JSON object found)"


async def test_failures_and_timeouts_become_notes() -> None:
    failed = await ask_structured(ScriptedLlm([]), [], Answer)
    assert failed.answer is None and failed.note == f"the LLM call failed ({PluginNotReady.code})"

    class Slow:
        enabled = True

        async def complete(self, messages: Sequence[Mapping[str, str]], **_: object) -> str:
            await asyncio.sleep(5)
            return "{}"

    slow = await ask_structured(Slow(), [], Answer, timeout_s=0.05)
    assert slow.note == "the LLM did not answer within 0.05 s"
