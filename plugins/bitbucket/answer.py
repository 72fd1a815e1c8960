"""The LLM's structured review answer (what ``configs/prompts/bitbucket/review.v1.md`` asks for)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal[
    "bug", "security", "performance", "error-handling", "concurrency", "maintainability"
]


class LlmFinding(BaseModel):
    """One problem the model found on an added line of the diff."""

    model_config = ConfigDict(extra="ignore")

    path: str = Field(max_length=500, description="the file, exactly as in the diff header")
    line: int = Field(ge=1, description="new-side line number of an added (+) line")
    end_line: int | None = Field(None, ge=1, description="last line the suggestion replaces")
    severity: Literal["high", "medium", "low"]
    category: Category
    confidence: float = Field(ge=0, le=1, description="how sure: 0.9 = almost certainly real")
    message: str = Field(min_length=1, max_length=800, description="what is wrong and its effect")
    fix_hint: str = Field("", max_length=400)
    suggestion: str | None = Field(
        None, max_length=4000, description="replacement text for line..end_line, or null"
    )


class LlmReview(BaseModel):
    """The whole answer for one chunk of the diff."""

    model_config = ConfigDict(extra="ignore")

    findings: list[LlmFinding] = Field(default_factory=list, max_length=40)
