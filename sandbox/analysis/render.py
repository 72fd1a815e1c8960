"""Human (Markdown review summary) and machine (JSON) renderings of an analysis report."""

from __future__ import annotations

import re

from sandbox.analysis.models import AnalysisReport, Finding, Severity

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")
_ICON = {Severity.HIGH: "🔴", Severity.MEDIUM: "🟠", Severity.LOW: "🟡"}


def md_text(text: str) -> str:
    """Text from analyzers (it may quote the analysed code) made inert in Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def md_code(text: str) -> str:
    """Text shown as inline code (backticks cannot be escaped inside it, so they go)."""
    return "`" + " ".join(text.replace("`", "'").split()) + "`"


def _scope(report: AnalysisReport) -> str:
    if report.base is None:
        return "whole tree"
    files = len(report.changed_files or [])
    return f"lines changed since {md_code(report.base)} ({files} file(s))"


def _tools(report: AnalysisReport) -> str:
    marks = []
    for run in report.runs:
        state = "skipped" if run.skipped else ("ok" if run.ok else "FAILED")
        marks.append(f"{run.tool.value} {state}")
    return ", ".join(marks)


def _finding(finding: Finding) -> list[str]:
    cwe = ", ".join(f"CWE-{number}" for number in finding.cwe) or "no CWE"
    lines = [
        f"- **{md_code(f'{finding.path}:{finding.start_line}')}** — {md_text(finding.message)}",
        f"  - rule {md_code(finding.rule_key)} · {cwe}"
        + (f" · also {', '.join(finding.also_reported_by)}" if finding.also_reported_by else ""),
    ]
    if finding.fix_hint:
        lines.append(f"  - fix: {md_text(finding.fix_hint)}")
    return lines


def to_markdown(report: AnalysisReport) -> str:
    """A review summary: counts by severity, then each finding with place, rule, CWE and fix."""
    counts = report.counts()
    total = len(report.findings)
    out = [
        f"## Security analysis: {total} finding{'s' if total != 1 else ''}",
        "",
        f"Scope: {_scope(report)} · tools: {_tools(report)} · {report.duration_s:.1f} s",
        "",
        "| Severity | Findings |",
        "| --- | ---: |",
        *(f"| {_ICON[sev]} {sev.value} | {counts[sev]} |" for sev in Severity),
        "",
    ]
    for run in report.runs:
        if run.error:
            out += [f"> ⚠️ {run.tool.value}: {md_text(run.error)}", ""]
    for severity in Severity:
        group = [f for f in report.findings if f.severity is severity]
        if group:
            out += [f"### {_ICON[severity]} {severity.value.capitalize()}", ""]
            for finding in group:
                out += _finding(finding)
            out.append("")
    if not report.findings:
        out += ["No security findings.", ""]
    return "\n".join(out)


def to_json(report: AnalysisReport) -> str:
    """The report as JSON (the pydantic model; ``AnalysisReport.model_validate_json`` reads it)."""
    return report.model_dump_json(indent=2)
