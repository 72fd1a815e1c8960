"""Asking the LLM for the analysis: one call, one repair retry, then the deterministic result.

Everything here is reached through the SDK's ``LlmGateway`` protocol, so tests script the replies
(malformed, truncated, slow) without a network; the platform's gateway records tokens and cost.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict

from plugin_sdk.prompts import Prompt, load_prompt
from plugin_sdk.protocols import LlmGateway
from plugin_sdk.structured import ask_structured
from plugins.jira.analysis import FunctionalAnalysis
from plugins.jira.answer import LlmAnswer, answer_schema
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


async def ask_llm(
    llm: LlmGateway,
    prompt: Prompt,
    values: dict[str, str],
    *,
    timeout_s: float = 60.0,
    max_tokens: int = 1500,
) -> LlmOutcome:
    """Ask once; on an unusable reply ask once more with the reason; else give up with a note."""
    asked = await ask_structured(
        llm, prompt.messages(**values), LlmAnswer, timeout_s=timeout_s, max_tokens=max_tokens
    )
    return LlmOutcome(
        answer=asked.answer, note=asked.note, attempts=asked.attempts, prompt=prompt.label
    )
