"""One mention, from the issue to the report and the writes it implies (no ``ctx`` here).

``build_report`` is the analysis (rules, or the LLM with the rules as fallback) plus the
estimate; ``field_update`` and ``subtask_fields`` say what to write back. The plugin runs each
write as its own ledger step, so a retry never repeats one already done.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from core.estimation import StoryPointModel
from plugin_sdk.protocols import LlmGateway
from plugins.jira.analysis import analyze_functional
from plugins.jira.config import JiraConfig
from plugins.jira.estimate import estimate_story, to_history
from plugins.jira.llm import analysis_prompt, ask_llm, prompt_values
from plugins.jira.mentions import Command, Request
from plugins.jira.report import Report, deterministic_report, llm_report, with_estimate
from plugins.jira.similarity import PastStory
from plugins.jira.story import FieldIds, Story
from plugins.jira.technical import analyze_technical

LLM_COMMANDS = frozenset({Command.DEFAULT, Command.ANALYZE, Command.SPLIT, Command.SPLIT_CONFIRM})
ESTIMATING = frozenset({Command.DEFAULT, Command.ESTIMATE})
SUMMARY_CHARS = 250


@dataclass(frozen=True)
class Inputs:
    """What one mention is answered from."""

    story: Story
    request: Request
    history: list[PastStory]
    model: StoryPointModel | None


async def _with_llm(inputs: Inputs, report: Report, llm: LlmGateway, config: JiraConfig) -> Report:
    story, technical = inputs.story, analyze_technical(inputs.story, inputs.history)
    prompt = analysis_prompt()
    values = prompt_values(story, analyze_functional(story), technical)
    try:
        async with asyncio.timeout(config.llm_timeout_s):  # both attempts together
            outcome = await ask_llm(
                llm, prompt, values,
                timeout_s=config.llm_timeout_s, max_tokens=config.llm_max_tokens,
            )  # fmt: skip
    except TimeoutError:
        why = f"the LLM did not answer within {config.llm_timeout_s:g} s"
        return report.model_copy(update={"note": why})
    if outcome.answer is None:
        return report.model_copy(update={"note": outcome.note})
    return llm_report(story, report.command, outcome.answer, technical, outcome.prompt)


async def build_report(inputs: Inputs, llm: LlmGateway, config: JiraConfig) -> Report:
    """The comment's content: analysis by the LLM when enabled (else rules) and the estimate."""
    story, command = inputs.story, inputs.request.command
    if command is Command.HELP:
        unknown = inputs.request.unknown
        note = f"I don't know the command '{unknown}'." if unknown else None
        return Report(key=story.key, command=command, mode="deterministic", note=note)
    functional = analyze_functional(story)
    technical = analyze_technical(story, inputs.history)
    report = deterministic_report(story, command, functional, technical)
    if command in LLM_COMMANDS and config.use_llm:
        if llm.enabled:
            report = await _with_llm(inputs, report, llm, config)
        else:
            report = report.model_copy(update={"note": "No LLM is configured for the service"})
    if command in ESTIMATING:
        size = len(to_history(inputs.history))
        estimate, why = estimate_story(story, inputs.model, size, config.min_history)
        report = with_estimate(report, estimate, why)
    return report


def field_update(report: Report, config: JiraConfig, fields: FieldIds) -> dict[str, Any] | None:
    """The fields and labels to set after an estimate, or ``None`` when nothing is written."""
    if report.estimate is None:
        return None
    values: dict[str, Any] = {}
    if config.set_story_points and fields.story_points:
        values[fields.story_points] = report.estimate.points
    labels = [config.label] if config.label else []
    if not values and not labels:
        return None
    return {"fields": values, "labels": labels}


def subtask_fields(parent: str, summary: str) -> dict[str, Any]:
    """The create body's fields of one proposed sub-task of ``parent``."""
    project = parent.rsplit("-", 1)[0]
    text = " ".join(summary.split())
    if len(text) > SUMMARY_CHARS:
        text = text[: SUMMARY_CHARS - 1].rstrip() + "…"
    return {
        "project": {"key": project},
        "parent": {"key": parent},
        "summary": text,
        "issuetype": {"name": "Sub-task"},
    }


def event_data(report: Report, comment_id: str, site: str) -> dict[str, Any]:
    """``jira.analysis.completed``'s data."""
    estimate = report.estimate
    return {
        "site": site,
        "issue": report.key,
        "command": report.command.value,
        "mode": report.mode,
        "comment_id": comment_id,
        "points": None if estimate is None else estimate.points,
        "estimate_note": report.estimate_note,
        "created": list(report.created),
    }
