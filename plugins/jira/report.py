"""What one agent comment says, whichever mode produced it (pure: builders, no I/O)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.estimation import Estimate
from plugins.jira.analysis import Check, FunctionalAnalysis, Verdict, propose_split
from plugins.jira.answer import LlmAnswer
from plugins.jira.mentions import Command
from plugins.jira.story import Story
from plugins.jira.technical import TechnicalAnalysis

Mode = Literal["llm", "deterministic"]


class PastRef(BaseModel):
    """A past story named in the comment."""

    model_config = ConfigDict(frozen=True)

    key: str
    summary: str
    points: float | None = None


class EstimateView(BaseModel):
    """The estimate as the comment shows it."""

    model_config = ConfigDict(frozen=True)

    points: float
    low: float
    high: float
    basis: str
    history_size: int
    caveat: str | None = None  # why the estimator fell back (e.g. to the team's median)
    similar: list[PastRef] = Field(default_factory=list)

    @classmethod
    def of(cls, estimate: Estimate) -> EstimateView:
        """From ``core.estimation``'s result."""
        similar = [PastRef(key=s.key, summary=s.title, points=s.points) for s in estimate.similar]
        return cls(
            points=estimate.points,
            low=estimate.low,
            high=estimate.high,
            basis=estimate.basis,
            history_size=estimate.history_size,
            caveat=estimate.fallback_reason,
            similar=similar[:3],
        )


class Report(BaseModel):
    """Everything one comment shows."""

    model_config = ConfigDict(frozen=True)

    key: str
    command: Command
    mode: Mode
    note: str | None = None  # e.g. why the LLM's answer is not used
    prompt: str | None = None  # prompt name@version when mode == "llm"
    verdict: Verdict | None = None
    summary: str = ""
    user_value: str | None = None
    invest: list[Check] = Field(default_factory=list)
    ambiguous_words: list[str] = Field(default_factory=list)
    untestable_criteria: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)
    test_approach: list[str] = Field(default_factory=list)
    similar: list[PastRef] = Field(default_factory=list)
    split: list[str] = Field(default_factory=list)
    created: list[str] = Field(default_factory=list)  # sub-tasks made by "split confirm"
    estimate: EstimateView | None = None
    estimate_note: str | None = None  # why there is no number


def _similar(technical: TechnicalAnalysis) -> list[PastRef]:
    return [
        PastRef(key=m.story.key, summary=m.story.summary, points=m.story.points)
        for m in technical.similar
    ]


def _summary(functional: FunctionalAnalysis) -> str:
    failed = [c.name for c in functional.invest if not c.ok]
    if not failed:
        return "The story meets every INVEST check."
    return "Not yet met: " + ", ".join(failed) + "."


def deterministic_report(
    story: Story,
    command: Command,
    functional: FunctionalAnalysis,
    technical: TechnicalAnalysis,
    note: str | None = None,
) -> Report:
    """The report of the rules alone (``note`` says why, when an LLM was asked and failed)."""
    return Report(
        key=story.key,
        command=command,
        mode="deterministic",
        note=note,
        verdict=functional.verdict,
        summary=_summary(functional),
        user_value=functional.user_value,
        invest=functional.invest,
        ambiguous_words=functional.ambiguous_words,
        untestable_criteria=functional.untestable_criteria,
        open_questions=functional.open_questions[:6],
        components=[c.name for c in technical.components],
        risks=[f"{r.kind.value}: {', '.join(r.evidence)}" for r in technical.risks],
        dependencies=technical.dependencies,
        test_approach=technical.test_approach,
        similar=_similar(technical),
        split=propose_split(story),
    )


def llm_report(
    story: Story,
    command: Command,
    answer: LlmAnswer,
    technical: TechnicalAnalysis,
    prompt: str,
) -> Report:
    """The report of a validated LLM answer; links and similar issues stay the rules' facts."""
    return Report(
        key=story.key,
        command=command,
        mode="llm",
        prompt=prompt,
        verdict=answer.verdict,
        summary=answer.summary,
        user_value=answer.user_value,
        invest=[Check(name=c.name, ok=c.ok, note=c.note) for c in answer.invest],
        ambiguous_words=answer.ambiguous_words,
        open_questions=answer.open_questions,
        components=answer.components,
        risks=[f"{r.kind}: {r.note}" if r.note else r.kind for r in answer.risks],
        dependencies=technical.dependencies,
        test_approach=answer.test_approach,
        similar=_similar(technical),
        split=answer.split,
    )


def with_estimate(report: Report, estimate: Estimate | None, why_not: str | None) -> Report:
    """The report with the estimate, or with the reason there is no number."""
    if estimate is None:
        return report.model_copy(update={"estimate_note": why_not or "too little history"})
    return report.model_copy(update={"estimate": EstimateView.of(estimate)})
