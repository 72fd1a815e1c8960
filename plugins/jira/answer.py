"""The LLM's answer to the analysis prompt: its pydantic model and parser.

Finding the JSON in a reply (fences, prose around it, truncation) is the SDK's
``plugin_sdk.structured``; truncated or schema-invalid JSON raises ``AnswerInvalid`` so the caller
can ask once more (see ``plugins.jira.llm``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from plugin_sdk.structured import AnswerInvalid, extract_json, parse_structured, schema_text
from plugins.jira.analysis import Verdict

__all__ = ["AnswerInvalid", "LlmAnswer", "answer_schema", "extract_json", "parse_answer"]

InvestName = Literal["Independent", "Negotiable", "Valuable", "Estimable", "Small", "Testable"]


class AnswerCheck(BaseModel):
    """One INVEST letter as the model judged it."""

    model_config = ConfigDict(extra="ignore")

    name: InvestName
    ok: bool
    note: str = Field("", max_length=300)


class AnswerRisk(BaseModel):
    """A technical risk as the model sees it."""

    model_config = ConfigDict(extra="ignore")

    kind: str = Field(max_length=40)
    note: str = Field("", max_length=300)


class LlmAnswer(BaseModel):
    """What ``configs/prompts/jira/analysis.v1.md`` asks the model to return."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(max_length=600, description="one or two sentences on the story's state")
    user_value: str | None = Field(None, max_length=300)
    invest: list[AnswerCheck] = Field(min_length=6, max_length=6)
    verdict: Verdict
    ambiguous_words: list[str] = Field(default_factory=list, max_length=20)
    open_questions: list[str] = Field(default_factory=list, max_length=6)
    components: list[str] = Field(default_factory=list, max_length=8)
    risks: list[AnswerRisk] = Field(default_factory=list, max_length=8)
    test_approach: list[str] = Field(default_factory=list, max_length=8)
    split: list[str] = Field(default_factory=list, max_length=5)


def parse_answer(raw: str) -> LlmAnswer:
    """A validated ``LlmAnswer`` from a model's reply, or ``AnswerInvalid`` saying why not."""
    return parse_structured(raw, LlmAnswer)


def answer_schema() -> str:
    """The answer's JSON Schema, compact, for the prompt."""
    return schema_text(LlmAnswer)
