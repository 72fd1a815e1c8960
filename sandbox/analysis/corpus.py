"""The rule corpus: annotated vulnerable and safe samples, and precision/recall against them.

Samples follow semgrep's test convention: a comment ``ruleid: <id>[, <id>...]`` says the rules
must match the next code line, ``ok: <id>`` says they must not (comment lines in between are
skipped); written after code, the annotation is about its own line. Any finding on a line not
annotated ``ruleid`` for its rule is a false positive."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.analysis.models import Finding, RuleInfo

CORPUS_SUFFIXES = (".py", ".js", ".ts", ".java", ".go", ".env", ".pem", ".yaml", ".txt")
_ANNOTATION = re.compile(r"(?:#|//)\s*(ruleid|ok):\s*([\w\-]+(?:\s*,\s*[\w\-]+)*)")
_COMMENT_LINE = re.compile(r"^\s*(#|//)")


@dataclass(frozen=True)
class Annotation:
    """One expectation: ``rule_id`` does (``expected``) or does not fire at ``path:line``."""

    path: str
    line: int
    rule_id: str
    expected: bool


@dataclass
class Score:
    """Matches of one rule (or CWE) against the corpus."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    ok_samples: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Share of findings that were expected (1.0 when there were none)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of expected findings that were found (1.0 when none were expected)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def add(self, other: Score) -> None:
        """Accumulate another score into this one."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.ok_samples += other.ok_samples


def read_annotations(root: Path) -> list[Annotation]:
    """Every annotation of every sample file under ``root``."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.suffix in CORPUS_SUFFIXES):
        lines = path.read_text().splitlines()
        rel = path.relative_to(root).as_posix()
        for index, text in enumerate(lines):
            match = _ANNOTATION.search(text)
            if not match:
                continue
            target = index  # a trailing annotation is about its own line
            if not text[: match.start()].strip():
                target += 1
                while target < len(lines) and _COMMENT_LINE.match(lines[target]):
                    target += 1
            for rule_id in re.split(r"\s*,\s*", match.group(2).strip()):
                found.append(Annotation(rel, target + 1, rule_id, match.group(1) == "ruleid"))
    return found


def score(expected: list[Annotation], findings: list[Finding]) -> dict[str, Score]:
    """Per-rule score of semgrep ``findings`` against the annotations."""
    wanted = {(a.path, a.line, a.rule_id) for a in expected if a.expected}
    got = {(f.path, f.start_line, f.rule_id) for f in findings}
    scores: dict[str, Score] = defaultdict(Score)
    for path, line, rule_id in sorted(wanted | got):
        where = f"{path}:{line}"
        if (path, line, rule_id) in wanted and (path, line, rule_id) in got:
            scores[rule_id].tp += 1
        elif (path, line, rule_id) in wanted:
            scores[rule_id].fn += 1
            scores[rule_id].misses.append(where)
        else:
            scores[rule_id].fp += 1
            scores[rule_id].false_alarms.append(where)
    for annotation in expected:
        if not annotation.expected:
            scores[annotation.rule_id].ok_samples += 1
    return dict(scores)


def by_cwe(scores: dict[str, Score], rules: dict[str, RuleInfo]) -> dict[int, Score]:
    """Scores summed per CWE of the rules."""
    totals: dict[int, Score] = defaultdict(Score)
    for rule_id, rule_score in scores.items():
        rule = rules.get(rule_id)
        for cwe in rule.cwe if rule else ():
            totals[cwe].add(rule_score)
    return dict(sorted(totals.items()))
