"""SARIF 2.1.0 rendering of an analysis report (one run, one driver, rules of every tool).

Rule ids are ``<tool>/<rule>`` so ruff, bandit and our semgrep rules live in one driver; each
rule carries ``external/cwe/cwe-NNN`` tags and a ``security-severity`` (GitHub code scanning
reads both); each result carries ``partialFingerprints`` that survive unrelated edits.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.analysis.merge import EARLIER_FINGERPRINT_KEY, FINGERPRINT_KEY
from sandbox.analysis.models import AnalysisReport, Finding, RuleInfo, Severity

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
DRIVER_NAME = "dcoder-analysis"
DRIVER_VERSION = "0.1.0"
SRCROOT = "%SRCROOT%"
# GitHub maps security-severity to critical/high/medium/low at 9.0 / 7.0 / 4.0 / 0.1.
_SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}


def cwe_tags(cwe: tuple[int, ...]) -> list[str]:
    """SARIF tags of CWE numbers (``external/cwe/cwe-89``)."""
    return [f"external/cwe/cwe-{number}" for number in cwe]


def _rule(rule: RuleInfo) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.key,
        "name": rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title} ({rule.tool.value} rule {rule.id})"},
        "defaultConfiguration": {"level": rule.severity.sarif_level},
        "properties": {
            "tags": ["security", *cwe_tags(rule.cwe)],
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "cwe": [f"CWE-{number}" for number in rule.cwe],
        },
    }
    if rule.fix_hint:
        descriptor["help"] = {"text": rule.fix_hint, "markdown": rule.fix_hint}
    if rule.help_uri:
        descriptor["helpUri"] = rule.help_uri
    return descriptor


def _region(finding: Finding) -> dict[str, Any]:
    region: dict[str, Any] = {
        "startLine": finding.start_line,
        "startColumn": finding.start_column,
        "endLine": max(finding.end_line, finding.start_line),
    }
    if finding.end_column is not None and (
        finding.end_line > finding.start_line or finding.end_column >= finding.start_column
    ):
        region["endColumn"] = finding.end_column
    if finding.snippet:
        region["snippet"] = {"text": finding.snippet}
    return region


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    text = finding.message + (f" Fix: {finding.fix_hint}" if finding.fix_hint else "")
    result: dict[str, Any] = {
        "ruleId": finding.rule_key,
        "level": finding.severity.sarif_level,
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.path, "uriBaseId": SRCROOT},
                    "region": _region(finding),
                }
            }
        ],
        "partialFingerprints": {
            FINGERPRINT_KEY: finding.fingerprint,
            **(
                {EARLIER_FINGERPRINT_KEY: finding.earlier_fingerprints[0]}
                if finding.earlier_fingerprints
                else {}
            ),
        },  # fmt: skip
        "properties": {
            "tool": finding.tool.value,
            "severity": finding.severity.value,
            "tags": cwe_tags(finding.cwe),
            "alsoReportedBy": list(finding.also_reported_by),
        },
    }
    if finding.rule_key in rule_index:
        result["ruleIndex"] = rule_index[finding.rule_key]
    return result


def _invocation(report: AnalysisReport) -> dict[str, Any]:
    notes = [
        {
            "level": "error" if not run.ok else "warning",
            "message": {"text": f"{run.tool.value}: {run.error}"},
        }
        for run in report.runs
        if run.error
    ]
    return {
        "executionSuccessful": report.complete,
        "toolExecutionNotifications": notes,
        "properties": {
            "backend": report.backend,
            "durationSeconds": round(report.duration_s, 3),
            "runs": [run.model_dump(mode="json") for run in report.runs],
        },
    }


def sarif_log(report: AnalysisReport) -> dict[str, Any]:
    """The report as a SARIF log object."""
    rule_index = {rule.key: index for index, rule in enumerate(report.rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": DRIVER_NAME,
                "version": DRIVER_VERSION,
                "informationUri": "https://github.com/dcoder-dev/dcoder-integrations",
                "rules": [_rule(rule) for rule in report.rules],
            }
        },
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "root of the analysed tree"}}},
        "results": [_result(finding, rule_index) for finding in report.findings],
        "properties": {"source": report.source, "base": report.base},
    }
    if report.changed_files is not None:
        run["properties"]["changedFiles"] = report.changed_files
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def to_sarif(report: AnalysisReport) -> str:
    """The report as SARIF 2.1.0 JSON text."""
    return json.dumps(sarif_log(report), indent=2)
