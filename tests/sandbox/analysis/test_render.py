"""Markdown review summary and JSON rendering."""

from __future__ import annotations

from sandbox.analysis.models import AnalysisReport, Finding, Severity, Tool, ToolRun
from sandbox.analysis.render import md_text, to_json, to_markdown


def _report() -> AnalysisReport:
    findings = [
        Finding(tool=Tool.SEMGREP, rule_id="py-xss", path="web/views.py", start_line=9,
                end_line=9, severity=Severity.HIGH, cwe=(79,), message="XSS via `$HTML`",
                fix_hint="Escape with markupsafe.escape.", also_reported_by=["bandit/B703"]),
        Finding(tool=Tool.RUFF, rule_id="S108", path="tmp.py", start_line=2, end_line=2,
                severity=Severity.LOW, cwe=(377,), message="Probable insecure usage of temp file"),
    ]  # fmt: skip
    runs = [ToolRun(tool=Tool.SEMGREP, ok=True), ToolRun(tool=Tool.BANDIT, ok=False, error="boom")]
    return AnalysisReport(
        source="repo", base="main", backend="bwrap", changed_files=["web/views.py", "tmp.py"],
        findings=findings, runs=runs, duration_s=2.0,
    )  # fmt: skip


def test_markdown_has_counts_places_rules_cwes_and_fixes() -> None:
    text = to_markdown(_report())
    assert text.startswith("## Security analysis: 2 findings")
    assert "| 🔴 high | 1 |" in text and "| 🟠 medium | 0 |" in text and "| 🟡 low | 1 |" in text
    assert "lines changed since `main` (2 file(s))" in text
    assert "**`web/views.py:9`**" in text
    assert "rule `semgrep/py-xss` · CWE-79 · also bandit/B703" in text
    assert "fix: Escape with markupsafe.escape." in text
    assert "bandit FAILED" in text and "> ⚠️ bandit: boom" in text
    assert text.index("### 🔴 High") < text.index("### 🟡 Low")


def test_markdown_neutralises_markup_from_analysed_code() -> None:
    assert md_text("<img src=x onerror=alert(1)> [link](http://evil) `code`") == (
        "\\<img src=x onerror=alert(1)\\> \\[link\\](http://evil) \\`code\\`"
    )


def test_markdown_of_a_clean_report() -> None:
    text = to_markdown(AnalysisReport(source="repo", backend="bwrap"))
    assert "0 findings" in text and "No security findings." in text and "whole tree" in text


def test_json_round_trips() -> None:
    report = _report()
    assert AnalysisReport.model_validate_json(to_json(report)) == report
