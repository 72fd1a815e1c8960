"""The LLM review of a diff: one structured call per chunk, repaired or retried once, then dropped.

Each chunk's answer is validated by ``LlmReview`` (``plugin_sdk.structured``: fences and prose
stripped, one retry with the reason). Findings below the confidence threshold, or not on an added
line of a file in that chunk, are dropped (counted, never posted). A chunk whose answer is
unusable twice puts its files on the "not reviewed" list with the reason; when every chunk fails
the review is analyzer-only and the summary says why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from plugin_sdk.prompts import Prompt, load_prompt
from plugin_sdk.protocols import LlmGateway
from plugin_sdk.structured import ask_structured, schema_text
from plugins.bitbucket.answer import LlmFinding, LlmReview
from plugins.bitbucket.chunks import Chunk, FileDiff
from plugins.bitbucket.chunks import Plan as ChunkPlan
from plugins.bitbucket.findings import ReviewFinding, Severity, fingerprint

PROMPT_NAME, PROMPT_VERSION = "review", 1
DESCRIPTION_CHARS = 4000


def review_prompt() -> Prompt:
    """The current review prompt template."""
    return load_prompt("bitbucket", PROMPT_NAME, PROMPT_VERSION)


@dataclass
class LlmResult:
    """What the LLM review produced, and what it could not cover."""

    label: str
    findings: list[ReviewFinding] = field(default_factory=list)
    not_reviewed: list[tuple[str, str]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    failed_chunks: int = 0

    @property
    def usable(self) -> bool:
        """True when at least one chunk was reviewed (or there was nothing to review)."""
        return self.calls == 0 or self.failed_chunks < self.calls

    @property
    def note(self) -> str | None:
        """Why the LLM did not review, when it did not."""
        if self.usable:
            return None
        return "; ".join(sorted({why for _, why in self.not_reviewed})) or None


def to_finding(
    raw: LlmFinding, files: dict[str, FileDiff], allowed: set[str], min_confidence: float
) -> tuple[ReviewFinding | None, str]:
    """A ``ReviewFinding`` from the model's answer, or ``None`` and the reason it was dropped."""
    if raw.confidence < min_confidence:
        return None, "below the confidence threshold"
    file = files.get(raw.path)
    if file is None or raw.path not in allowed:
        return None, "names a file outside the chunk"
    text = file.added.get(raw.line)
    if text is None:
        return None, "not on an added line"
    occurrence = sum(1 for n, t in file.added.items() if n < raw.line and t.strip() == text.strip())
    end = raw.end_line if raw.end_line and raw.end_line >= raw.line else None
    suggestion = raw.suggestion
    if suggestion is not None and any(
        n not in file.added for n in range(raw.line, (end or raw.line) + 1)
    ):
        suggestion = None  # a suggestion may only replace added lines
    rule = f"llm/{raw.category}"
    finding = ReviewFinding(
        source="llm",
        rule=rule,
        title=raw.category.replace("-", " "),
        path=raw.path,
        line=raw.line,
        end_line=end,
        severity=Severity(raw.severity),
        message=raw.message,
        fix_hint=raw.fix_hint,
        suggestion=suggestion,
        confidence=raw.confidence,
        fingerprint=fingerprint(rule, raw.path, text, occurrence),
    )
    return finding, ""


async def review_diff(
    llm: LlmGateway,
    plan: ChunkPlan,
    values: dict[str, str],
    *,
    min_confidence: float = 0.6,
    timeout_s: float = 90.0,
    max_tokens: int = 2000,
    prompt: Prompt | None = None,
) -> LlmResult:
    """Review every chunk of ``plan``; ``values`` fill the prompt (title, description, ...)."""
    prompt = prompt or review_prompt()
    result = LlmResult(label=prompt.label, not_reviewed=list(plan.not_reviewed))
    for chunk in plan.chunks:
        result.calls += 1
        filled = prompt_values(values) | {"diff": chunk.text}
        outcome = await ask_structured(
            llm, prompt.messages(**filled), LlmReview, timeout_s=timeout_s, max_tokens=max_tokens
        )
        if outcome.answer is None:
            result.failed_chunks += 1
            why = f"not reviewed by the LLM: {outcome.note}"
            result.not_reviewed += [(path, why) for path in chunk.files]
        else:
            _collect(result, outcome.answer, chunk, plan, min_confidence)
    return result


def _collect(
    result: LlmResult, answer: LlmReview, chunk: Chunk, plan: ChunkPlan, min_confidence: float
) -> None:
    for raw in answer.findings:
        finding, why = to_finding(raw, plan.files, set(chunk.files), min_confidence)
        if finding is None:
            result.dropped[why] += 1
        else:
            result.findings.append(finding)


def prompt_values(values: dict[str, str]) -> dict[str, str]:
    """The template's placeholders, bounded and with defaults."""
    return {
        "schema": schema_text(LlmReview),
        "title": values.get("title", "")[:300],
        "target_branch": values.get("target_branch", ""),
        "description": values.get("description", "")[:DESCRIPTION_CHARS] or "(empty)",
        "instructions": values.get("instructions", "") or "(none)",
    }
