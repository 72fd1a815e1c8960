"""The Code Insights report of a head commit: PASS/FAIL by the configured severity, annotations.

A team's merge check reads the report's result ("require passing Code Insights report" on Data
Center, a merge check on the report key on Cloud). The report lists every current finding of the
pull request (not only new ones): annotations belong to a commit, and each push gets its own.
Cloud takes ``result`` PASSED/FAILED and annotations in bulk posts of at most 100; Data Center
takes PASS/FAIL and ``{"annotations": [...]}``; both keep at most 1000 annotations per report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from plugins.bitbucket.events import Flavour
from plugins.bitbucket.findings import ReviewFinding, Severity, ranked

REPORT_KEY = "dcoder-review"
REPORTER = "dcoder"
MAX_ANNOTATIONS = 1000
CLOUD_BATCH = 100
_CLOUD_SEVERITY = {Severity.HIGH: "HIGH", Severity.MEDIUM: "MEDIUM", Severity.LOW: "LOW"}
_SUMMARY_CHARS = 450  # Cloud: summary <= 450 characters; DC: message <= 2000


class InsightsReport(BaseModel):
    """The report body and its annotations, in one product's shape."""

    model_config = ConfigDict(frozen=True)

    key: str
    report: dict[str, Any]
    annotations: list[dict[str, Any]]
    passed: bool

    def batches(self, size: int = CLOUD_BATCH) -> list[list[dict[str, Any]]]:
        """Annotations in posts of at most ``size``."""
        return [self.annotations[i : i + size] for i in range(0, len(self.annotations), size)]


def result_of(findings: Sequence[ReviewFinding], fail_on: Severity) -> bool:
    """True (PASS) when no finding is ``fail_on`` or more urgent."""
    return not any(f.severity.at_least(fail_on) for f in findings)


def _type_of(finding: ReviewFinding) -> str:
    return "VULNERABILITY" if finding.cwe else ("BUG" if finding.source == "llm" else "CODE_SMELL")


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _data(findings: Sequence[ReviewFinding], flavour: Flavour) -> list[dict[str, Any]]:
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    return [
        {"title": f"{s.value.title()} findings", "type": "NUMBER", "value": counts[s]}
        for s in Severity
    ]


def build_report(
    findings: Sequence[ReviewFinding],
    fail_on: Severity,
    flavour: Flavour,
    *,
    details: str = "",
    link: str | None = None,
) -> InsightsReport:
    """The report and its annotations for one head commit."""
    passed = result_of(findings, fail_on)
    top = ranked(findings)[:MAX_ANNOTATIONS]
    text = details or (f"{len(findings)} finding(s); fails from {fail_on.value} severity on.")
    if flavour == "cloud":
        report: dict[str, Any] = {
            "title": "dcoder review",
            "details": _short(text, 2000),
            "report_type": "SECURITY",
            "reporter": REPORTER,
            "result": "PASSED" if passed else "FAILED",
            "data": _data(findings, flavour),
        }
        annotations = [_cloud_annotation(f) for f in top]
    else:
        report = {
            "title": "dcoder review",
            "details": _short(text, 2000),
            "reporter": REPORTER,
            "result": "PASS" if passed else "FAIL",
            "data": _data(findings, flavour),
        }
        annotations = [_dc_annotation(f) for f in top]
    if link:
        report["link"] = link
    return InsightsReport(key=REPORT_KEY, report=report, annotations=annotations, passed=passed)


def _cloud_annotation(f: ReviewFinding) -> dict[str, Any]:
    return {
        "external_id": f.fingerprint,
        "annotation_type": _type_of(f),
        "summary": _short(f"{f.rule}: {f.message}", _SUMMARY_CHARS),
        "details": _short(f.fix_hint or f.message, 2000),
        "path": f.path,
        "line": f.line,
        "severity": _CLOUD_SEVERITY[f.severity],
        "result": "FAILED",
    }


def _dc_annotation(f: ReviewFinding) -> dict[str, Any]:
    return {
        "externalId": f.fingerprint,
        "path": f.path,
        "line": f.line,
        "message": _short(f"{f.rule}: {f.message}", 2000),
        "severity": f.severity.value.upper(),
        "type": _type_of(f),
    }
