"""Deterministic functional analysis of a story: value, INVEST, criteria, ambiguity, readiness.

Pure rules over a ``Story`` (no I/O, no model): the result an LLM answer is checked against and
the one the comment shows when no LLM is configured or its answer is unusable.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from plugins.jira.story import Story

_USER_STORY = re.compile(
    r"\bas an?\s+(?P<who>[^,.;\n]+?)[, ]+\s*i\s+(?:want|need|would like|can)\b(?P<what>[^.\n]*?)"
    r"(?:[, ]+\s*(?:so that|in order to)\s+(?P<why>[^.\n]+))?(?:[.\n]|$)",
    re.IGNORECASE,
)
_BENEFIT = re.compile(r"\b(?:so that|in order to)\s+([^.\n]+)", re.IGNORECASE)
_GWT = re.compile(r"\bgiven\b.*\bwhen\b.*\bthen\b|\bwhen\b.*\bthen\b", re.IGNORECASE | re.DOTALL)
_MEASURE = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:%|ms|s\b|sec|seconds?|minutes?|min\b|hours?|h\b|days?|mb|gb|kb|"
    r"items?|users?|requests?|rps|px|characters?|chars?|times?|x\b)",
    re.IGNORECASE,
)
_OBSERVABLE = re.compile(
    r"\b(?:shows?|displays?|returns?|responds?|receives?|sends?|saves?|is saved|stores?|"
    r"creates?|deletes?|redirects?|rejects?|accepts?|logs?|emails?|lists?|contains?|"
    r"is (?:shown|visible|hidden|disabled|enabled|sent|created|updated|deleted|rejected)|"
    r"error|status \d{3}|exports?|imports?|downloads?)\b",
    re.IGNORECASE,
)
AMBIGUOUS = (
    "fast", "quick", "quickly", "slow", "user-friendly", "user friendly", "easy", "easily",
    "simple", "intuitive", "etc", "and/or", "should", "some", "several", "many", "few",
    "appropriate", "as needed", "if possible", "flexible", "robust", "efficient", "optimal",
    "seamless", "better", "improve", "improved", "nice", "reasonable", "various", "normally",
    "approximately", "tbd", "as soon as possible", "asap", "modern", "clean",
)  # fmt: skip
_AMBIGUOUS = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(w) for w in AMBIGUOUS) + r")(?![\w-])", re.IGNORECASE
)
_QUESTION_LINE = re.compile(r"[^.!\n]*\?|.*\b(?:TBD|TODO|to be (?:decided|defined|clarified))\b.*")
_PRESCRIPTIVE = re.compile(r"\b(?:must use|exactly as|pixel-perfect|no other way)\b", re.I)
SMALL_WORDS = 350  # beyond this a story usually hides several stories
SMALL_CRITERIA = 8


class Verdict(StrEnum):
    """Can the team start it?"""

    READY = "ready"
    NEEDS_WORK = "needs-work"
    NOT_READY = "not-ready"


class Check(BaseModel):
    """One INVEST letter: passed or not, and why."""

    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    note: str


class FunctionalAnalysis(BaseModel):
    """What a product owner wants to know before refinement."""

    model_config = ConfigDict(frozen=True)

    user_story_form: bool
    user_value: str | None
    invest: list[Check]
    criteria_present: bool
    untestable_criteria: list[str] = Field(default_factory=list)
    ambiguous_words: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    verdict: Verdict


def user_value(text: str) -> tuple[bool, str | None]:
    """Whether the text has the "As a … I want …" form, and its stated benefit."""
    form = _USER_STORY.search(text)
    if form is not None and form.group("why"):
        return True, form.group("why").strip()
    benefit = _BENEFIT.search(text)
    return form is not None, benefit.group(1).strip() if benefit else None


def ambiguous_words(text: str) -> list[str]:
    """Vague words in ``text``, lower-cased, in order, without repeats."""
    return list(dict.fromkeys(m.group(1).lower() for m in _AMBIGUOUS.finditer(text)))


def is_testable(criterion: str) -> bool:
    """Given/When/Then, or a check with an observable outcome or a number, and nothing vague."""
    if ambiguous_words(criterion):
        return False
    return bool(
        _GWT.search(criterion) or _MEASURE.search(criterion) or _OBSERVABLE.search(criterion)
    )


_QUANTITY = frozenset({"some", "several", "many", "few", "various"})


def vague_question(word: str) -> str:
    """The question that pins a vague word down."""
    if word == "should":
        return 'Is every "should" a must or a nice-to-have?'
    if word in ("etc", "and/or"):
        return f'What exactly does "{word}" stand for here (list every case)?'
    if word in _QUANTITY:
        return f'How many is "{word}" (a number or a range)?'
    return f'What does "{word}" mean here, as a number or an example?'


def _open_questions(story: Story, ambiguous: list[str], value: str | None) -> list[str]:
    text = "\n".join([story.summary, story.description, *story.acceptance_criteria])
    asked = [m.group(0).strip() for m in _QUESTION_LINE.finditer(text) if m.group(0).strip()]
    if not story.acceptance_criteria:
        asked.append("What are the acceptance criteria (how do we know it is done)?")
    if value is None:
        asked.append("Who benefits from this, and why does it matter now?")
    asked += [
        f"Will {link.key} ({link.relation}) be done before this starts?"
        for link in story.links
        if _blocking(link.relation) and not link.done
    ]
    asked += [vague_question(word) for word in ambiguous[:4]]
    return list(dict.fromkeys(asked))


def _blocking(relation: str) -> bool:
    return relation.lower() in ("is blocked by", "depends on", "is a dependency of", "requires")


def _invest(
    story: Story, value: str | None, untestable: list[str], vague: list[str]
) -> list[Check]:
    text = f"{story.summary}\n{story.description}"
    blockers = [link.key for link in story.links if _blocking(link.relation) and not link.done]
    words = len(text.split()) + sum(len(c.split()) for c in story.acceptance_criteria)
    small = words <= SMALL_WORDS and len(story.acceptance_criteria) <= SMALL_CRITERIA
    testable_ok = bool(story.acceptance_criteria) and not untestable
    return [
        Check(name="Independent", ok=not blockers, note=_note(blockers, "blocked by ")),
        Check(
            name="Negotiable",
            ok=not _PRESCRIPTIVE.search(text),
            note="describes the need, not one fixed solution",
        ),
        Check(name="Valuable", ok=value is not None, note=value or "no stated benefit"),
        Check(
            name="Estimable",
            ok=len(story.description.split()) >= 10 and len(vague) < 3,
            note="enough detail to size" if len(vague) < 3 else "too many vague words to size",
        ),
        Check(
            name="Small", ok=small, note=f"{words} words, {len(story.acceptance_criteria)} criteria"
        ),
        Check(
            name="Testable",
            ok=testable_ok,
            note="every criterion is checkable" if testable_ok else "criteria missing or vague",
        ),
    ]


def _note(keys: list[str], prefix: str) -> str:
    return prefix + ", ".join(keys) if keys else "no open blocking links"


def _verdict(story: Story, checks: list[Check], vague: list[str]) -> Verdict:
    failed = {c.name for c in checks if not c.ok}
    if not story.acceptance_criteria and len(story.description.split()) < 10:
        return Verdict.NOT_READY
    if not failed and len(vague) <= 1:
        return Verdict.READY
    return Verdict.NOT_READY if {"Testable", "Estimable"} <= failed else Verdict.NEEDS_WORK


def analyze_functional(story: Story) -> FunctionalAnalysis:
    """The functional analysis of ``story``."""
    text = f"{story.summary}\n{story.description}"
    form, value = user_value(text)
    vague = ambiguous_words("\n".join([text, *story.acceptance_criteria]))
    untestable = [c for c in story.acceptance_criteria if not is_testable(c)]
    checks = _invest(story, value, untestable, vague)
    return FunctionalAnalysis(
        user_story_form=form,
        user_value=value,
        invest=checks,
        criteria_present=bool(story.acceptance_criteria),
        untestable_criteria=untestable,
        ambiguous_words=vague,
        open_questions=_open_questions(story, vague, value),
        verdict=_verdict(story, checks, vague),
    )


SPLIT_MIN_CRITERIA = 4
_AND = re.compile(r"\s+(?:and|&|\+)\s+", re.IGNORECASE)
# Pairs that name one thing: never split along their "and".
_IDIOMS = re.compile(
    r"\b(drag and drop|copy and paste|search and replace|terms and conditions|read and write|"
    r"pros and cons|black and white|q and a|r and d)\b",
    re.IGNORECASE,
)


def _short(text: str, words: int = 12) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def propose_split(story: Story) -> list[str]:
    """Smaller stories for a big one (2 to 5 summaries), or none when it looks small enough.

    Rules, not insight: a summary joining two goals with "and" splits along it; otherwise a story
    with many criteria gets one child per criterion (the first five).
    """
    summary = _IDIOMS.sub(lambda m: m.group(1).replace(" ", "\x00"), story.summary)
    goals = [g.strip().replace("\x00", " ") for g in _AND.split(summary) if g.strip()]
    if 2 <= len(goals) <= 5:
        tail = goals[-1].split()[1:]  # "Export and email the orders": both verbs take the object
        goals = [g if len(g.split()) > 1 else " ".join([g, *tail]) for g in goals]
        return [_short(goal[:1].upper() + goal[1:]) for goal in goals]
    checks = {c.name: c.ok for c in analyze_functional(story).invest}
    criteria = story.acceptance_criteria
    if len(criteria) >= SPLIT_MIN_CRITERIA and (not checks["Small"] or len(criteria) > 5):
        return [_short(f"{story.summary}: {criterion}") for criterion in criteria[:5]]
    return []
