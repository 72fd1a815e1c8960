"""The finding ledger of one pull request: what was posted, so a push posts only what is new.

Per pull request the agent keeps (in the instance store) each finding's fingerprint, the id of
the comment it got, and whether it is still there. ``plan`` compares a new review with the ledger:

- a fingerprint not in the ledger (or one never posted because of the cap) → **post**, most
  urgent first, up to the per-review cap; the rest wait for the next review's room;
- a posted finding missing from a review that covered its file and its source → **resolve**
  (Cloud resolves the thread; Data Center replies "fixed in <commit>" and resolves it);
- a resolved finding that comes back → **reopen** its comment (never a second comment);
- a posted finding found again → nothing.

An entry recorded under a finding's earlier fingerprint (the analysis engine's
``dcoderFindingHash/v1``, which named the tool) moves to its current one (``rekeyed``): an
upgrade neither comments on open findings again nor calls them fixed.

A finding in a file this review did not cover (too big for the LLM budget, an analyzer that
failed) is neither resolved nor reposted. The summary comment's id lives here too, so it is
edited in place on every push and never posted twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from plugins.bitbucket.findings import ReviewFinding, Severity, Source, ranked

Status = Literal["pending", "open", "resolved"]


class Entry(BaseModel):
    """One finding as the ledger remembers it."""

    model_config = ConfigDict(frozen=True)

    fingerprint: str
    source: Source
    rule: str
    path: str
    line: int
    severity: Severity
    status: Status = "pending"  # pending: known, not posted (over the cap)
    comment_id: int | None = None
    first_commit: str
    resolved_in: str | None = None


class Ledger(BaseModel):
    """Everything the agent remembers about one pull request."""

    model_config = ConfigDict(frozen=True)

    key: str
    entries: dict[str, Entry] = Field(default_factory=dict)
    summary_comment_id: int | None = None
    last_head: str | None = None
    paused: bool = False
    skip_noted: str | None = None  # the skip reason already said once

    def with_entry(self, entry: Entry) -> Self:
        """A copy with ``entry`` stored under its fingerprint."""
        return self.model_copy(update={"entries": self.entries | {entry.fingerprint: entry}})

    def posted(self, finding: ReviewFinding, comment_id: int, commit: str) -> Self:
        """A copy recording that ``finding`` got comment ``comment_id``."""
        old = self.entries.get(finding.fingerprint)
        entry = Entry(
            fingerprint=finding.fingerprint,
            source=finding.source,
            rule=finding.rule,
            path=finding.path,
            line=finding.line,
            severity=finding.severity,
            status="open",
            comment_id=comment_id,
            first_commit=old.first_commit if old else commit,
        )
        return self.with_entry(entry)

    def rekeyed(self, findings: Iterable[ReviewFinding]) -> Self:
        """A copy where each entry kept under an earlier fingerprint of a finding is under the
        finding's current one."""
        entries = dict(self.entries)
        for finding in findings:
            if finding.fingerprint in entries:
                continue
            old = next((fp for fp in finding.earlier_fingerprints if fp in entries), None)
            if old is not None:
                entry = entries.pop(old)
                entries[finding.fingerprint] = entry.model_copy(
                    update={"fingerprint": finding.fingerprint}
                )
        return self.model_copy(update={"entries": entries})

    def resolved(self, fingerprint: str, commit: str) -> Self:
        """A copy with the finding marked fixed in ``commit``."""
        entry = self.entries[fingerprint]
        return self.with_entry(
            entry.model_copy(update={"status": "resolved", "resolved_in": commit})
        )

    def reopened(self, fingerprint: str) -> Self:
        """A copy with a resolved finding open again (same comment)."""
        entry = self.entries[fingerprint]
        return self.with_entry(entry.model_copy(update={"status": "open", "resolved_in": None}))

    def open_counts(self) -> dict[Severity, int]:
        """Open (posted, not fixed) findings per severity."""
        counts = dict.fromkeys(Severity, 0)
        for entry in self.entries.values():
            if entry.status == "open":
                counts[entry.severity] += 1
        return counts


class Scope(BaseModel):
    """What one review covered: a finding outside it is neither resolved nor reposted."""

    model_config = ConfigDict(frozen=True)

    sources: frozenset[Source] = frozenset({"analyzer"})  # sources that ran to the end
    not_reviewed: frozenset[str] = frozenset()  # paths the LLM could not cover (budget)
    failed_paths: frozenset[str] = frozenset()  # paths an analyzer could not cover
    tools_off: frozenset[str] = frozenset()  # analyzers switched off in the settings

    def covers(self, entry: Entry) -> bool:
        """Whether this review looked where ``entry`` was, with the source that found it."""
        if entry.source not in self.sources:
            return False
        if entry.source == "analyzer" and entry.rule.split("/", 1)[0] in self.tools_off:
            return False  # a switched-off analyzer did not look: its findings are not "fixed"
        if entry.source == "llm" and entry.path in self.not_reviewed:
            return False
        return not (entry.source == "analyzer" and entry.path in self.failed_paths)


class Plan(BaseModel):
    """What to do on the pull request after one review."""

    model_config = ConfigDict(frozen=True)

    post: list[ReviewFinding] = Field(default_factory=list)
    over_cap: list[ReviewFinding] = Field(default_factory=list)
    resolve: list[Entry] = Field(default_factory=list)
    reopen: list[Entry] = Field(default_factory=list)
    unchanged: list[Entry] = Field(default_factory=list)
    forget: list[Entry] = Field(default_factory=list)  # pending ones that went away


def plan(ledger: Ledger, findings: Iterable[ReviewFinding], scope: Scope, cap: int) -> Plan:
    """Compare a review's findings with the ledger (see the module docstring)."""
    current = {f.fingerprint: f for f in findings}
    fresh: list[ReviewFinding] = []
    reopen: list[Entry] = []
    unchanged: list[Entry] = []
    for fp, finding in current.items():
        entry = ledger.entries.get(fp)
        if entry is None or entry.status == "pending":
            fresh.append(finding)
        elif entry.status == "resolved":
            reopen.append(entry)
        else:
            unchanged.append(entry)
    resolve: list[Entry] = []
    forget: list[Entry] = []
    for fp, entry in ledger.entries.items():
        if fp in current or entry.status == "resolved" or not scope.covers(entry):
            continue
        (resolve if entry.status == "open" else forget).append(entry)
    order = ranked(fresh)
    return Plan(
        post=order[:cap],
        over_cap=order[cap:],
        resolve=sorted(resolve, key=lambda e: (e.path, e.line)),
        reopen=reopen,
        unchanged=unchanged,
        forget=forget,
    )


def record_pending(ledger: Ledger, findings: Iterable[ReviewFinding], commit: str) -> Ledger:
    """Remember findings left over the cap (posted by a later review when there is room)."""
    for finding in findings:
        if finding.fingerprint in ledger.entries:
            continue
        ledger = ledger.with_entry(
            Entry(
                fingerprint=finding.fingerprint,
                source=finding.source,
                rule=finding.rule,
                path=finding.path,
                line=finding.line,
                severity=finding.severity,
                first_commit=commit,
            )
        )
    return ledger


def forget(ledger: Ledger, entries: Iterable[Entry]) -> Ledger:
    """Drop pending entries that are gone (they were never on the pull request)."""
    drop = {e.fingerprint for e in entries}
    kept = {fp: e for fp, e in ledger.entries.items() if fp not in drop}
    return ledger.model_copy(update={"entries": kept})
