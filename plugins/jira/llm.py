"""Asking the LLM for the analysis: one call, one repair retry, then the deterministic result.

Everything here is reached through the SDK's ``LlmGateway`` protocol, so tests script the replies
(malformed, truncated, slow) without a network; the platform's gateway records tokens and cost.
"""

from __future__ import annotations

import asyncio
import json

from pydantic import BaseModel, ConfigDict

from core.errors import IntegrationsError
from plugin_sdk.protocols import LlmGateway
from plugins.jira.analysis import FunctionalAnalysis
from plugins.jira.answer import AnswerInvalid, LlmAnswer, answer_schema, parse_answer
from plugins.jira.prompts import Prompt, load_prompt
from plugins.jira.story import Story
from plugins.jira.technical import TechnicalAnalysis

PROMPT_NAME, PROMPT_VERSION = "analysis", 1
DESCRIPTION_CHARS = 6000  # bounds the prompt (and the cost) whatever the description's size


class LlmOutcome(BaseModel):
    """The validated answer, or ``None`` and a note saying why the rules' result is shown."""

    model_config = ConfigDict(frozen=True)

    answer: LlmAnswer | None
    note: str | None = None
    attempts: int = 0
    prompt: str = ""


def analysis_prompt() -> Prompt:
    """The current analysis prompt template."""
    return load_prompt("jira", PROMPT_NAME, PROMPT_VERSION)


def _lines(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "(none)"


def prompt_values(
    story: Story, functional: FunctionalAnalysis, technical: TechnicalAnalysis
) -> dict[str, str]:
    """The template's placeholders for one story."""
    similar = [
        f"{m.story.key}: {m.story.summary} [{', '.join(m.story.components) or '-'}] "
        f"{m.story.points if m.story.points is not None else '?'} pts"
        for m in technical.similar
    ]
    findings = functional.model_dump(mode="json", exclude={"invest"}) | {
        "risks": [r.kind.value for r in technical.risks]
    }
    return {
        "schema": answer_schema(),
        "key": story.key,
        "issue_type": story.issue_type or "issue",
        "summary": story.summary,
        "description": story.description[:DESCRIPTION_CHARS] or "(empty)",
        "criteria_source": story.criteria_source or "none found",
        "criteria": _lines(story.acceptance_criteria),
        "components": ", ".join(story.components) or "(none)",
        "labels": ", ".join(story.labels) or "(none)",
        "links": _lines(technical.dependencies),
        "similar": _lines(similar),
        "findings": json.dumps(findings, ensure_ascii=False),
    }


async def _complete(
    llm: LlmGateway, messages: list[dict[str, str]], timeout_s: float, max_tokens: int
) -> str:
    async with asyncio.timeout(timeout_s):
        return await llm.complete(messages, max_tokens=max_tokens, temperature=0.0, json_mode=True)


async def ask_llm(
    llm: LlmGateway,
    prompt: Prompt,
    values: dict[str, str],
    *,
    timeout_s: float = 60.0,
    max_tokens: int = 1500,
) -> LlmOutcome:
    """Ask once; on an unusable reply ask once more with the reason; else give up with a note."""
    messages = prompt.messages(**values)
    attempts = 0
    reason = ""
    for _ in range(2):
        attempts += 1
        try:
            reply = await _complete(llm, messages, timeout_s, max_tokens)
        except TimeoutError:
            return _gave_up(prompt, attempts, f"the LLM did not answer within {timeout_s:g} s")
        except IntegrationsError as err:
            return _gave_up(prompt, attempts, f"the LLM call failed ({err.code})")
        try:
            answer = parse_answer(reply)
        except AnswerInvalid as err:
            reason = err.reason
            messages = [
                *messages,
                {"role": "assistant", "content": reply[:4000]},
                {
                    "role": "user",
                    "content": f"That answer was not usable: {err.reason}. Reply again with "
                    "the complete JSON object only, shorter if needed.",
                },
            ]
            continue
        return LlmOutcome(answer=answer, attempts=attempts, prompt=prompt.label)
    return _gave_up(prompt, attempts, f"the LLM's answer was unusable twice ({reason})")


def _gave_up(prompt: Prompt, attempts: int, why: str) -> LlmOutcome:
    return LlmOutcome(answer=None, note=why, attempts=attempts, prompt=prompt.label)
