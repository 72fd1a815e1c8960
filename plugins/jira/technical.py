"""Deterministic technical analysis: components, risks, dependencies and a test approach.

Components come from the tenant's own history (the components of the most similar past issues),
risks from keywords, dependencies from issue links. Pure: the history is passed in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from plugins.jira.similarity import Match, PastStory, most_similar
from plugins.jira.story import Story

SIMILAR_FOR_COMPONENTS = 10


class RiskKind(StrEnum):
    """Families of technical risk the rules recognise."""

    MIGRATION = "migration"
    SECURITY = "security"
    PERFORMANCE = "performance"
    THIRD_PARTY = "third-party"
    CONCURRENCY = "concurrency"


RISK_WORDS: dict[RiskKind, tuple[str, ...]] = {
    RiskKind.MIGRATION: (
        "migration", "migrate", "schema", "backfill", "database", "column", "table",
        "data model", "upgrade", "deprecat", "rename",
    ),
    RiskKind.SECURITY: (
        "security", "auth", "login", "password", "token", "permission", "role", "encrypt",
        "secret", "oauth", "sso", "gdpr", "pii", "personal data", "xss", "injection", "csrf",
    ),
    RiskKind.PERFORMANCE: (
        "performance", "latency", "slow", "throughput", "scale", "scaling", "cache", "load",
        "timeout", "memory", "bulk", "batch", "million",
    ),
    RiskKind.THIRD_PARTY: (
        "third-party", "third party", "external", "vendor", "integration", "webhook", "api",
        "sdk", "payment", "stripe", "paypal", "salesforce", "slack", "s3", "provider",
    ),
    RiskKind.CONCURRENCY: ("concurren", "race", "lock", "parallel", "retry", "idempot"),
}  # fmt: skip
_TESTS: dict[RiskKind, str] = {
    RiskKind.MIGRATION: "rehearse the migration on a copy of production data, with a rollback",
    RiskKind.SECURITY: "negative tests: wrong role, expired or missing credentials, hostile input",
    RiskKind.PERFORMANCE: "a load test against an agreed number (latency or throughput)",
    RiskKind.THIRD_PARTY: "contract tests against the provider's sandbox or a simulator, "
    "including its errors and rate limits",
    RiskKind.CONCURRENCY: "tests with concurrent and repeated requests (duplicates, retries)",
}


class Risk(BaseModel):
    """A risk and the words that raised it."""

    model_config = ConfigDict(frozen=True)

    kind: RiskKind
    evidence: list[str]


class ComponentGuess(BaseModel):
    """A component likely touched, with the past issues that suggest it."""

    model_config = ConfigDict(frozen=True)

    name: str
    because: list[str]  # keys of similar past issues (or "set on the issue")


class TechnicalAnalysis(BaseModel):
    """What an engineer wants to know before estimating."""

    model_config = ConfigDict(frozen=True)

    components: list[ComponentGuess] = Field(default_factory=list)
    similar: list[Match] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)
    test_approach: list[str] = Field(default_factory=list)


def risks(text: str) -> list[Risk]:
    """Risk families whose words occur in ``text`` (word starts, case-insensitive)."""
    lowered = text.lower()
    found = []
    for kind, words in RISK_WORDS.items():
        hits = [w for w in words if re.search(r"(?<![a-z0-9])" + re.escape(w), lowered)]
        if hits:
            found.append(Risk(kind=kind, evidence=hits[:4]))
    return found


def components(story: Story, matches: Sequence[Match]) -> list[ComponentGuess]:
    """Components set on the issue, then the most common ones of similar past issues."""
    guesses = [ComponentGuess(name=c, because=["set on the issue"]) for c in story.components]
    votes: Counter[str] = Counter()
    sources: dict[str, list[str]] = {}
    for match in matches:
        for name in match.story.components:
            votes[name] += 1
            sources.setdefault(name, []).append(match.story.key)
    for name, _count in votes.most_common(3):
        if name not in story.components:
            guesses.append(ComponentGuess(name=name, because=sources[name][:3]))
    return guesses


def dependencies(story: Story) -> list[str]:
    """Readable dependency lines from the issue's links (open ones first)."""
    ordered = sorted(story.links, key=lambda link: link.done)
    return [
        f"{link.relation} {link.key}" + (f" ({link.summary})" if link.summary else "")
        + (" - done" if link.done else "")
        for link in ordered
    ]  # fmt: skip


def test_approach(story: Story, found: Sequence[Risk]) -> list[str]:
    """What to test, from the criteria's form and the risks."""
    steps = []
    if story.acceptance_criteria:
        steps.append(
            f"one automated acceptance test per criterion ({len(story.acceptance_criteria)})"
        )
    else:
        steps.append("write acceptance criteria first; derive the acceptance tests from them")
    steps.append("unit tests for the changed rules and their edge cases")
    steps += [_TESTS[r.kind] for r in found]
    return steps


def analyze_technical(story: Story, history: Sequence[PastStory]) -> TechnicalAnalysis:
    """The technical analysis of ``story`` against the site's past stories."""
    query = "\n".join([story.summary, story.description, *story.acceptance_criteria])
    pool = [p for p in history if p.key != story.key]
    matches = most_similar(query, pool, limit=SIMILAR_FOR_COMPONENTS)
    found = risks(query)
    return TechnicalAnalysis(
        components=components(story, matches),
        similar=matches[:3],
        risks=found,
        dependencies=dependencies(story),
        test_approach=test_approach(story, found),
    )
