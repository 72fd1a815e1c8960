"""The LLM's answer: its pydantic model, and a parser that repairs what can be repaired locally.

Models wrap JSON in code fences, add a sentence after it, or stop mid-object when they run out of
tokens. ``parse_answer`` strips fences and surrounding prose; truncated or schema-invalid JSON
raises ``AnswerInvalid`` so the caller can ask once more (see ``plugins.jira.llm``).
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plugins.jira.analysis import Verdict

InvestName = Literal["Independent", "Negotiable", "Valuable", "Estimable", "Small", "Testable"]
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)(?:```|\Z)", re.DOTALL)


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


def parse_answer(raw: str) -> LlmAnswer:
    """A validated ``LlmAnswer`` from a model's reply, or ``AnswerInvalid`` saying why not."""
    text = extract_json(raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise AnswerInvalid(f"not valid JSON: {err.msg} at character {err.pos}") from err
    try:
        return LlmAnswer.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
            for e in err.errors()[:5]
        )
        raise AnswerInvalid(f"does not match the schema: {problems}") from err


def answer_schema() -> str:
    """The answer's JSON Schema, compact, for the prompt."""
    return json.dumps(LlmAnswer.model_json_schema(), separators=(",", ":"))
