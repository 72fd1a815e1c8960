"""Scoring on the realistic corpus: labelled cases (a file or a small package), TPR and FPR per CWE.

A case's first line is ``# case: vulnerable CWE-78`` or ``# case: safe CWE-78`` (for a package,
the first line of its ``__init__.py``). A vulnerable case is found when a finding of the case's
weakness family lies in the case; a safe case is a false alarm when one does. Families group the
CWE numbers tools use for one weakness (CWE-338 for weak randomness is a child of CWE-330, a
password hashed with MD5 is CWE-916 or CWE-328, ...).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.analysis.models import Finding

# family name -> CWE numbers that count as that weakness
FAMILIES: dict[str, frozenset[int]] = {
    "command injection": frozenset({77, 78, 88}),
    "code injection": frozenset({94, 95, 1336}),
    "SQL injection": frozenset({89, 564}),
    "path traversal": frozenset({22, 23, 36, 73}),
    "XSS": frozenset({79, 80}),
    "XXE": frozenset({611, 776, 827}),
    "XPath injection": frozenset({643}),
    "open redirect": frozenset({601}),
    "weak randomness": frozenset({330, 338}),
    "insecure cookie": frozenset({614, 1004}),
    "trust boundary": frozenset({501}),
    "LDAP injection": frozenset({90}),
    "deserialization": frozenset({502}),
    "weak hash": frozenset({327, 328, 916}),
}
_LABEL = re.compile(r"^#\s*case:\s*(vulnerable|safe)\s+CWE-(\d+)")


@dataclass(frozen=True)
class Case:
    """One labelled case: a file, or a package directory (``path`` ends with ``/``)."""

    path: str
    vulnerable: bool
    cwe: int

    @property
    def family(self) -> str:
        """The weakness family of the case's CWE."""
        return family_of(self.cwe)

    def contains(self, finding_path: str) -> bool:
        """True when a finding at ``finding_path`` lies in this case."""
        if self.path.endswith("/"):
            return finding_path.startswith(self.path)
        return finding_path == self.path


@dataclass
class FamilyScore:
    """Outcome of one weakness family."""

    vulnerable: int = 0
    safe: int = 0
    found: int = 0
    false_alarms: int = 0
    misses: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)

    @property
    def tpr(self) -> float:
        """Share of vulnerable cases found."""
        return self.found / self.vulnerable if self.vulnerable else 0.0

    @property
    def fpr(self) -> float:
        """Share of safe cases with a finding of the family."""
        return self.false_alarms / self.safe if self.safe else 0.0

    @property
    def score(self) -> float:
        """TPR - FPR (1 is perfect, 0 is a coin)."""
        return self.tpr - self.fpr


def family_of(cwe: int) -> str:
    """The family a CWE number belongs to (ValueError for a CWE no family has)."""
    for name, members in FAMILIES.items():
        if cwe in members:
            return name
    raise ValueError(f"CWE-{cwe} belongs to no family")


def read_cases(
    root: Path, exclude: tuple[str, ...] = ("holdout", "holdout2", "holdout3")
) -> list[Case]:
    """Every labelled case under ``root`` (top-level ``exclude`` directories left out).

    A file or package without a label is an error.
    """
    cases = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)  # <family dir>/<case>.py or <family dir>/<package>/...
        if rel.parts[0] in exclude:
            continue
        if len(rel.parts) > 2 and rel.parts[2:] != ("__init__.py",):
            continue  # a module of a package case: the package's __init__.py has the label
        first = path.read_text().split("\n", 1)[0]
        match = _LABEL.match(first)
        if match is None:
            raise ValueError(f"{rel}: first line is not '# case: vulnerable|safe CWE-N'")
        where = rel.parent.as_posix() + "/" if path.name == "__init__.py" else rel.as_posix()
        cases.append(Case(where, match.group(1) == "vulnerable", int(match.group(2))))
    return cases


def score(cases: list[Case], findings: list[Finding]) -> dict[str, FamilyScore]:
    """Per family: vulnerable cases found and safe cases flagged by ``findings``."""
    scores: dict[str, FamilyScore] = defaultdict(FamilyScore)
    for case in cases:
        members = FAMILIES[case.family]
        hit = any(case.contains(f.path) and members & set(f.cwe) for f in findings)
        entry = scores[case.family]
        if case.vulnerable:
            entry.vulnerable += 1
            entry.found += hit
            if not hit:
                entry.misses.append(case.path)
        else:
            entry.safe += 1
            entry.false_alarms += hit
            if hit:
                entry.alarms.append(case.path)
    return {name: scores[name] for name in FAMILIES if name in scores}


def mean_score(scores: dict[str, FamilyScore]) -> float:
    """Mean of TPR - FPR over the families."""
    return sum(s.score for s in scores.values()) / len(scores) if scores else 0.0
