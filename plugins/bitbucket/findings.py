"""Review findings as the agent handles them: from the analysis report or the LLM, ranked, capped.

The analysis engine's report arrives as JSON (the ``sandbox.review`` job's result): this module
reads its ``findings`` without importing the sandbox (plugins sit on their own floor). An
analyzer finding's fingerprint is the engine's (the weakness, path, whitespace-normalised line
text and occurrence of that text in the file; no line numbers, no tool), with the identities it
had under earlier schemes in ``earlier_fingerprints``. LLM findings get one built the same way
from their rule (``llm/bug``, ...), so both kinds keep their identity when other edits move them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["analyzer", "llm"]
TRIMMED = "trimmed"  # the report's key saying what the review job's bound left out


class Severity(StrEnum):
    """How urgent a finding is (the engine's three levels)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Sort key: 0 for the most urgent."""
        return ("high", "medium", "low").index(self.value)

    def at_least(self, threshold: Severity) -> bool:
        """Whether this severity is ``threshold`` or more urgent."""
        return self.rank <= threshold.rank


class ReviewFinding(BaseModel):
    """One problem on one changed line, whichever source found it."""

    model_config = ConfigDict(frozen=True)

    source: Source
    rule: str = Field(description="semgrep/py-sql-injection, bandit/B602, llm/bug, ...")
    title: str = ""
    path: str
    line: int = Field(ge=1)
    end_line: int | None = Field(None, ge=1)
    severity: Severity
    cwe: tuple[int, ...] = ()
    message: str
    fix_hint: str = ""
    suggestion: str | None = Field(None, description="replacement text for line..end_line")
    confidence: float | None = Field(None, ge=0, le=1)
    fingerprint: str
    earlier_fingerprints: tuple[str, ...] = Field(
        (), description="its identity under earlier fingerprint schemes (a ledger kept then)"
    )
    also_reported_by: tuple[str, ...] = ()


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def fingerprint(rule: str, path: str, line_text: str, occurrence: int = 0) -> str:
    """A stable identity: rule, path, normalised line text and its occurrence; no line number."""
    material = "\0".join((rule, path, _normalised(line_text), str(occurrence)))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def from_analysis(report: dict[str, Any]) -> list[ReviewFinding]:
    """The findings of an analysis report (``AnalysisReport`` as JSON), with their rule titles."""
    titles = {
        f"{r.get('tool')}/{r.get('id')}": str(r.get("title") or "")
        for r in report.get("rules") or []
        if isinstance(r, dict)
    }
    found = []
    for raw in report.get("findings") or []:
        rule = f"{raw['tool']}/{raw['rule_id']}"
        found.append(
            ReviewFinding(
                source="analyzer",
                rule=rule,
                title=titles.get(rule, ""),
                path=raw["path"],
                line=raw["start_line"],
                end_line=raw.get("end_line"),
                severity=Severity(raw["severity"]),
                cwe=tuple(raw.get("cwe") or ()),
                message=raw["message"],
                fix_hint=raw.get("fix_hint") or "",
                fingerprint=raw.get("fingerprint")
                or fingerprint(rule, raw["path"], raw.get("snippet") or ""),
                earlier_fingerprints=tuple(raw.get("earlier_fingerprints") or ()),
                also_reported_by=tuple(raw.get("also_reported_by") or ()),
            )
        )
    return found


def ranked(findings: Iterable[ReviewFinding]) -> list[ReviewFinding]:
    """Most urgent first; analyzers before the LLM at equal severity, then confidence, place."""
    return sorted(
        findings,
        key=lambda f: (
            f.severity.rank,
            f.source != "analyzer",
            -(f.confidence if f.confidence is not None else 1.0),
            f.path,
            f.line,
            f.rule,
        ),
    )


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def path_matches(path: str, patterns: Sequence[str]) -> bool:
    """Gitignore-like: ``dir/`` is a prefix, a pattern without ``/`` matches the file name."""
    for pattern in patterns:
        if pattern.endswith("/"):
            if path.startswith(pattern) or f"/{pattern}" in f"/{path}":
                return True
        elif "/" not in pattern:
            if _glob_regex(pattern).match(path.rsplit("/", 1)[-1]):
                return True
        elif _glob_regex(pattern.lstrip("/")).match(path):
            return True
    return False


def dedupe(findings: Iterable[ReviewFinding]) -> list[ReviewFinding]:
    """One finding per fingerprint; an LLM finding on a line an analyzer already flagged goes."""
    findings = list(findings)
    seen: set[str] = set()
    analyzer_lines = {(f.path, f.line) for f in findings if f.source == "analyzer"}
    out = []
    for finding in ranked(findings):
        if finding.fingerprint in seen:
            continue
        if finding.source == "llm" and (finding.path, finding.line) in analyzer_lines:
            continue  # the analyzer's comment already explains the line, with its rule and CWE
        seen.add(finding.fingerprint)
        out.append(finding)
    return out


class Selection(BaseModel):
    """Findings split by the review settings: commented on, below the threshold, ignored."""

    model_config = ConfigDict(frozen=True)

    kept: list[ReviewFinding]
    below_threshold: list[ReviewFinding]
    ignored: list[ReviewFinding]


def select(
    findings: Iterable[ReviewFinding], ignore: Sequence[str], threshold: Severity
) -> Selection:
    """Drop ignored paths, set aside what is below the comment threshold (still reported)."""
    kept, below, ignored = [], [], []
    for finding in dedupe(findings):
        if path_matches(finding.path, ignore):
            ignored.append(finding)
        elif not finding.severity.at_least(threshold):
            below.append(finding)
        else:
            kept.append(finding)
    return Selection(kept=kept, below_threshold=below, ignored=ignored)
