"""One review composed from its parts, without I/O: what to post, resolve and report, and what
the summary, the Code Insights report and ``review.completed`` say.

The review job (once the platform's jobs land) gathers the inputs (the sandbox analysis as JSON,
the LLM review, the ledger, the settings read at the base) and applies the result through the
client; everything that decides lives here so it is tested without a server.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from plugins.bitbucket.events import PullRequestEvent
from plugins.bitbucket.findings import (
    TRIMMED,
    ReviewFinding,
    Severity,
    Source,
    from_analysis,
    path_matches,
    select,
)
from plugins.bitbucket.insights import InsightsReport, build_report
from plugins.bitbucket.ledger import Entry, Ledger, Plan, Scope, plan
from plugins.bitbucket.llm import LlmResult
from plugins.bitbucket.outcome import PullRequestRef, ReviewCompleted
from plugins.bitbucket.render import Mode, Summary
from plugins.bitbucket.repo_settings import Effective


class Composed(BaseModel):
    """Everything one review will do and say."""

    model_config = ConfigDict(frozen=True)

    plan: Plan
    ledger: Ledger  # the one the plan was made against (entries under current fingerprints)
    scope: Scope
    summary: Summary
    report: InsightsReport
    findings: list[ReviewFinding]  # current, after ignore (the report's annotations)


def _problems(analysis: dict[str, object]) -> list[str]:
    runs = analysis.get("runs")
    out = []
    for run in runs if isinstance(runs, list) else []:
        if isinstance(run, dict) and not run.get("ok", True) and not run.get("skipped"):
            out.append(f"{run.get('tool')} did not finish: {run.get('error') or 'failed'}")
    trimmed = analysis.get(TRIMMED)
    if isinstance(trimmed, dict):
        out.append(_trimmed_note(trimmed))
    return out


def _trimmed_note(trimmed: dict[str, object]) -> str:
    """What a bounded report left out (the job's result holds at most ``max_bytes``)."""
    dropped = trimmed.get("dropped")
    counts = dropped if isinstance(dropped, dict) else {}
    left = sum(int(n) for n in counts.values())
    parts = ", ".join(f"{counts[s.value]} {s.value}" for s in Severity if counts.get(s.value))
    limit = int(str(trimmed.get("max_bytes") or 0)) // 1024
    return (
        f"the analysis found {trimmed.get('found')} findings, more than a review's result holds "
        f"({limit} KiB): the {left} least severe ({parts}) are left out of this review, and it "
        "resolves no earlier comment"
    )


def _mode(effective: Effective, llm: LlmResult | None, llm_note: str | None) -> Mode:
    tools = effective.settings.analyzers.tools()
    if llm is not None and llm.usable:
        return Mode(analyzers=tools, llm=llm.label)
    note = (llm.note if llm is not None else None) or llm_note
    return Mode(analyzers=tools, llm_note=note)


def compose(
    event: PullRequestEvent,
    head: str,
    effective: Effective,
    analysis: dict[str, object],
    ledger: Ledger,
    *,
    llm: LlmResult | None = None,
    llm_note: str | None = None,
) -> Composed:
    """The review of ``head``: ``llm`` is None when no LLM ran (``llm_note`` says why)."""
    settings = effective.settings
    problems = _problems(analysis)
    sources: set[Source] = set() if problems else {"analyzer"}
    off = settings.analyzers.tools_off()  # also filtered here: a report from before the switch
    found = [f for f in from_analysis(analysis) if f.rule.split("/", 1)[0] not in off]
    if llm is not None and llm.usable:
        sources.add("llm")
        found += llm.findings
    chosen = select(found, settings.ignore, settings.severity_threshold)
    llm_gaps = frozenset(p for p, _ in (llm.not_reviewed if llm else []))
    scope = Scope(sources=frozenset(sources), not_reviewed=llm_gaps, tools_off=off)
    current = chosen.kept + chosen.below_threshold
    ledger = ledger.rekeyed(found)
    planned = _capped(
        plan(ledger, current, scope, len(current)), chosen.kept, settings.max_comments
    )
    summary = Summary(
        head=head,
        mode=_mode(effective, llm, llm_note),
        result="PASS" if _passes(current, settings.fail_on) else "FAIL",
        fail_on=settings.fail_on,
        open_counts=_counts([*planned.post, *_still_open(ledger, planned, current)]),
        new_counts=_counts(planned.post),
        fixed=len(planned.resolve),
        reviewed_files=_reviewed(analysis, settings.ignore),
        not_reviewed=sorted(set(llm.not_reviewed if llm else [])),
        over_cap=len(planned.over_cap),
        cap=settings.max_comments,
        below_threshold=len(chosen.below_threshold),
        threshold=settings.severity_threshold,
        settings_source=effective.source,
        settings_note=effective.note,
        problems=problems,
    )
    report = build_report(current, settings.fail_on, event.flavour)
    return Composed(
        plan=planned, ledger=ledger, scope=scope, summary=summary, report=report, findings=current
    )


def _passes(findings: list[ReviewFinding], fail_on: Severity) -> bool:
    return not any(f.severity.at_least(fail_on) for f in findings)


def _capped(planned: Plan, kept: list[ReviewFinding], cap: int) -> Plan:
    """Only findings at or above the threshold are posted (a posted one that fell below it
    stays, and is not "fixed"); the cap applies to those."""
    wanted = {f.fingerprint for f in kept}
    fresh = [f for f in planned.post if f.fingerprint in wanted]
    return planned.model_copy(update={"post": fresh[:cap], "over_cap": fresh[cap:]})


def _still_open(ledger: Ledger, planned: Plan, current: list[ReviewFinding]) -> list[Entry]:
    """Open after this review: found again, reopened, or outside this review's scope."""
    gone = {e.fingerprint for e in planned.resolve} | {f.fingerprint for f in current}
    uncovered = [
        e for e in ledger.entries.values() if e.status == "open" and e.fingerprint not in gone
    ]
    return [*planned.unchanged, *planned.reopen, *uncovered]


def _counts(items: Sequence[ReviewFinding | Entry]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for item in items:
        counts[item.severity] += 1
    return counts


def _reviewed(analysis: dict[str, object], ignore: list[str]) -> int:
    changed = analysis.get("changed_files")
    paths = {p for p in changed if isinstance(p, str)} if isinstance(changed, list) else set()
    return sum(1 for p in paths if not path_matches(p, ignore))


def completed(
    event: PullRequestEvent,
    composed: Composed,
    keys: list[str],
    summary_comment_id: int | None,
) -> ReviewCompleted:
    """The ``review.completed`` payload of a composed (and applied) review."""
    s = composed.summary
    return ReviewCompleted(
        pull_request=PullRequestRef.of(event).model_copy(update={"head": s.head}),
        jira_keys=keys,
        result=s.result,
        open_counts=s.open_counts,
        new=len(composed.plan.post),
        fixed=s.fixed,
        mode="llm" if s.mode.llm else "analyzers-only",
        not_reviewed=len(s.not_reviewed),
        summary_comment_id=summary_comment_id,
    )
