"""Cross-tool de-duplication and stable fingerprints.

Two findings are the same problem when they are on the same line of the same file and their CWEs
fall in the same family (ruff S602 and bandit B602 both say CWE-78; our taint rule too). The kept
finding is the most specific one (our semgrep rule, our dataflow pass, then bandit, then ruff);
the others are listed in ``also_reported_by``.

A fingerprint (``dcoderFindingHash/v2``) hashes the weakness (the family of the finding's first
CWE; the rule for a finding without one), the path, the normalised text of the line and the
occurrence index of that text in the file: it survives lines moving up or down (other edits) but
changes when the flagged line itself changes. It does not name the tool: when one tool misses a
problem on a push (a rule timing out, a tool failing) and another still reports it, the problem
keeps its identity, and a pull request review does not comment on it a second time.

``dcoderFindingHash/v1`` hashed the kept finding's rule instead, so the identity changed with
whichever tool won the de-duplication. Each finding still carries its v1 hash in
``earlier_fingerprints``: records kept under v1 (a review's ledger) find it again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

from sandbox.analysis.models import Finding, Severity, Tool

# CWE -> family representative: variants of one weakness that different tools label differently.
CWE_FAMILY = {95: 94, 1336: 94, 88: 78, 328: 327, 916: 327, 338: 330, 1004: 614}
# semgrep first where both see a problem, then the dataflow pass: the order the v1 fingerprints
# (``earlier_fingerprints``, which name the kept rule) were recorded under, so they still match.
_TOOL_PREFERENCE = {Tool.SEMGREP: 0, Tool.DATAFLOW: 1, Tool.BANDIT: 2, Tool.RUFF: 3}
FINGERPRINT_KEY = "dcoderFindingHash/v2"
EARLIER_FINGERPRINT_KEY = "dcoderFindingHash/v1"


def normalise(line: str) -> str:
    """A line's text with whitespace collapsed (re-indentation keeps identity)."""
    return " ".join(line.split())


def family(cwe: int) -> int:
    """The representative of the weakness family ``cwe`` belongs to (itself if none)."""
    return CWE_FAMILY.get(cwe, cwe)


def _families(finding: Finding) -> set[int | str]:
    if not finding.cwe:
        return {finding.rule_key}
    return {family(cwe) for cwe in finding.cwe}


def deduplicate(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (file, line, CWE family), keeping the most specific tool's."""
    by_line: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for finding in findings:
        by_line[(finding.path, finding.start_line)].append(finding)
    kept: list[Finding] = []
    for group in by_line.values():
        group.sort(key=lambda f: (_TOOL_PREFERENCE[f.tool], f.severity.rank, f.rule_key))
        merged: list[Finding] = []
        for finding in group:
            twin = next((m for m in merged if _families(m) & _families(finding)), None)
            if twin is None:
                merged.append(finding.model_copy(deep=True))
                continue
            if finding.rule_key not in twin.also_reported_by and finding.rule_key != twin.rule_key:
                twin.also_reported_by.append(finding.rule_key)
            if finding.severity.rank < twin.severity.rank:
                twin.severity = Severity(finding.severity)
            # a weakness only the other tool names (template injection that is also XSS) stays
            extra = [c for c in finding.cwe if family(c) not in _families(twin)]
            twin.cwe = (*twin.cwe, *extra)
        kept.extend(merged)
    return kept


def fingerprint(identity: str, path: str, line_text: str, occurrence: int) -> str:
    """Stable identity of a finding (32 hex digits); ``identity`` is its weakness (v2) or rule
    (v1)."""
    material = "\0".join([identity, path, normalise(line_text), str(occurrence)])
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def weakness(finding: Finding) -> str:
    """What a finding is about whichever tool reported it: its first CWE's family, else its rule.

    The first CWE is the reporting rule's own (de-duplication appends the others' after it), and
    every rule of the catalog names its main weakness first.
    """
    if not finding.cwe:
        return finding.rule_key
    return f"CWE-{family(finding.cwe[0])}"


def assign_fingerprints(findings: list[Finding]) -> None:
    """Set each finding's fingerprint (v2) and its v1 one, counting repeated identical lines in
    file order."""
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    seen_v1: dict[tuple[str, str, str], int] = defaultdict(int)
    for finding in sorted(findings, key=lambda f: (f.path, f.start_line, f.start_column)):
        text = normalise(finding.snippet)
        key = (weakness(finding), finding.path, text)
        finding.fingerprint = fingerprint(*key, seen[key])
        seen[key] += 1
        key_v1 = (finding.rule_key, finding.path, text)
        finding.earlier_fingerprints = [fingerprint(*key_v1, seen_v1[key_v1])]
        seen_v1[key_v1] += 1


def sort_key(finding: Finding) -> tuple[int, str, int, int, str]:
    """Report order: most severe first, then by place."""
    return (
        finding.severity.rank,
        finding.path,
        finding.start_line,
        finding.start_column,
        finding.rule_key,
    )
