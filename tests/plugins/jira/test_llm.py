"""The LLM path with scripted replies: valid, fenced, chatty, truncated, invalid, slow, failing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from core.errors import RetryableError
from plugin_sdk.prompts import PromptInvalid, parse_prompt
from plugins.jira.analysis import analyze_functional
from plugins.jira.answer import AnswerInvalid, LlmAnswer, extract_json, parse_answer
from plugins.jira.llm import analysis_prompt, ask_llm, prompt_values
from plugins.jira.story import Story
from plugins.jira.technical import analyze_technical

NAMES = ["Independent", "Negotiable", "Valuable", "Estimable", "Small", "Testable"]
VALID: dict[str, Any] = {
    "summary": "Clear story; one vague criterion.",
    "user_value": "reconcile payments",
    "invest": [{"name": n, "ok": n != "Testable", "note": "x"} for n in NAMES],
    "verdict": "needs-work",
    "ambiguous_words": ["fast"],
    "open_questions": ["How fast is fast?"],
    "components": ["reports"],
    "risks": [{"kind": "performance", "note": "large months"}],
    "test_approach": ["load test with 10k orders"],
    "split": [],
    "extra_field_models_like_to_add": True,
}
GOOD = json.dumps(VALID)
STORY = Story(key="SHOP-7", summary="Export orders", description="Export should be fast.")


class Scripted:
    """An ``LlmGateway`` that answers from a script (a string, an exception, or a delay)."""

    def __init__(self, *replies: str | BaseException | float) -> None:
        self.replies = list(replies)
        self.calls: list[list[dict[str, str]]] = []

    @property
    def enabled(self) -> bool:
        return True

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json_mode: bool = False,
    ) -> str:
        self.calls.append([dict(m) for m in messages])
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, float):
            await asyncio.sleep(reply)
            return GOOD
        return reply


def _values() -> dict[str, str]:
    return prompt_values(STORY, analyze_functional(STORY), analyze_technical(STORY, []))


@pytest.mark.parametrize(
    "raw",
    [
        GOOD,
        f"```json\n{GOOD}\n```",
        f"Here is the analysis:\n{GOOD}\nHope this helps! {{not json}}",
        f"```\n{GOOD}",  # an unclosed fence
    ],
)
def test_parse_repairs_fences_and_surrounding_text(raw: str) -> None:
    answer = parse_answer(raw)
    assert answer.verdict.value == "needs-work" and answer.invest[5].ok is False


def test_strings_with_braces_and_escapes_do_not_confuse_the_extractor() -> None:
    tricky = dict(VALID, summary='He said "{ no }" \\ then left')
    assert (
        parse_answer(json.dumps(tricky) + " trailing }").summary == 'He said "{ no }" \\ then left'
    )


def test_truncated_and_invalid_answers_say_why() -> None:
    with pytest.raises(AnswerInvalid) as cut:
        parse_answer(GOOD[: len(GOOD) // 2])
    assert cut.value.truncated
    with pytest.raises(AnswerInvalid) as wrong:
        parse_answer(json.dumps(dict(VALID, verdict="maybe", invest=[])))
    assert "verdict" in wrong.value.reason and "invest" in wrong.value.reason
    with pytest.raises(AnswerInvalid):
        extract_json("no json here")


async def test_valid_first_answer_uses_one_call_with_the_filled_prompt() -> None:
    llm = Scripted(GOOD)
    outcome = await ask_llm(llm, analysis_prompt(), _values())
    assert outcome.answer is not None and outcome.attempts == 1
    assert outcome.prompt == "jira-analysis@v1" and outcome.note is None
    system, user = llm.calls[0]
    assert '"title":"LlmAnswer"' in system["content"] and "$" not in user["content"]
    assert "SHOP-7" in user["content"] and "Export should be fast." in user["content"]


async def test_truncated_answer_gets_one_retry_with_the_reason() -> None:
    llm = Scripted(GOOD[:80], GOOD)
    outcome = await ask_llm(llm, analysis_prompt(), _values())
    assert outcome.answer is not None and outcome.attempts == 2
    retry = llm.calls[1]
    assert retry[-2] == {"role": "assistant", "content": GOOD[:80]}
    assert "cut off" in retry[-1]["content"]


async def test_two_unusable_answers_fall_back_with_a_note() -> None:
    llm = Scripted("I cannot help with that.", json.dumps({"summary": "only this"}))
    outcome = await ask_llm(llm, analysis_prompt(), _values())
    assert outcome.answer is None and outcome.attempts == 2
    assert outcome.note is not None and outcome.note.startswith("the LLM's answer was unusable")


async def test_timeout_and_provider_errors_fall_back_with_a_note() -> None:
    slow = await ask_llm(Scripted(5.0), analysis_prompt(), _values(), timeout_s=0.05)
    assert slow.answer is None and slow.note == "the LLM did not answer within 0.05 s"
    failing = await ask_llm(Scripted(RetryableError("429")), analysis_prompt(), _values())
    assert failing.answer is None and failing.note == "the LLM call failed (retryable)"


def test_prompt_file_names_its_answer_model_and_version() -> None:
    prompt = analysis_prompt()
    assert prompt.answer_model == f"{LlmAnswer.__module__}.{LlmAnswer.__qualname__}"
    assert prompt.version == 1 and prompt.name == "jira-analysis"
    with pytest.raises(KeyError):
        prompt.messages(key="only one value")
    with pytest.raises(PromptInvalid):
        parse_prompt("no front matter\n## system\nx\n## user\ny")
    with pytest.raises(PromptInvalid):
        parse_prompt("---\nname: x\nversion: 1\nanswer_model: m\n---\n## system\nonly system")
