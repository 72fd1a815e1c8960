"""The three analyzers: their command lines inside the sandbox and parsers of their JSON output.

Commands are built for the sandbox layout (``/tools/bin``, ``/config``, cwd ``/workspace``) and
always run without network, metrics or the analysed project's own tool configuration, so a change
under review cannot switch checks off (inline ``# nosec`` / ``# noqa`` / ``# nosemgrep`` are
honoured: they are visible in the diff).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from sandbox.analysis import catalog
from sandbox.analysis.models import Finding, RuleInfo, Severity, Tool, relative_posix
from sandbox.backends.base import CONFIG_MOUNT, TOOLS_MOUNT, WORKSPACE_MOUNT

# Directories no analyzer looks into: dependencies, builds, caches.
EXCLUDED_DIRS = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", ".eggs", "__pycache__",
    "node_modules", "bower_components", "vendor", "third_party", "site-packages",
    "build", "dist", ".mypy_cache", ".ruff_cache", ".pytest_cache",
)  # fmt: skip
EXCLUDED_FILES = ("*.min.js", "*.bundle.js", "*.map")


class AnalyzerError(ValueError):
    """An analyzer's output could not be understood."""


class AnalysisOptions(BaseModel):
    """Tuning of one analysis (the defaults suit a review)."""

    jobs: int = Field(2, ge=1, le=64, description="semgrep worker processes")
    semgrep_rule_timeout_s: int = Field(20, ge=0, description="semgrep time per rule and file")
    max_target_bytes: int = Field(1_000_000, ge=0, description="semgrep skips larger files")
    tools: tuple[Tool, ...] = (Tool.SEMGREP, Tool.RUFF, Tool.BANDIT, Tool.DATAFLOW)
    parallel: bool = Field(True, description="run the analyzers at the same time")
    rules_dir: Path = Field(catalog.RULES_DIR, description="semgrep rules, mounted at /config")


def semgrepignore() -> str:
    """The ``.semgrepignore`` the engine writes into every workspace (replacing the project's)."""
    return "\n".join([*(f"{name}/" for name in EXCLUDED_DIRS), *EXCLUDED_FILES]) + "\n"


def semgrep_argv(targets: Sequence[str], options: AnalysisOptions) -> list[str]:
    """semgrep with our rules only, offline, JSON out."""
    return [
        f"{TOOLS_MOUNT}/bin/semgrep", "scan",
        "--config", CONFIG_MOUNT,
        "--metrics=off", "--disable-version-check", "--no-git-ignore",
        "--no-rewrite-rule-ids", "--json", "--quiet",
        "--jobs", str(options.jobs),
        "--timeout", str(options.semgrep_rule_timeout_s),
        "--max-target-bytes", str(options.max_target_bytes),
        *(targets or ["."]),
    ]  # fmt: skip


def ruff_argv(targets: Sequence[str]) -> list[str]:
    """ruff's security (S) rules, ignoring any project configuration."""
    return [
        f"{TOOLS_MOUNT}/bin/ruff", "check", "--isolated", "--no-cache", "--exit-zero",
        "--force-exclude", "--extend-exclude", ",".join([*EXCLUDED_DIRS, *EXCLUDED_FILES]),
        "--select", "S", "--ignore", ",".join(catalog.ruff_ignored()),
        "--output-format", "json",
        *(targets or ["."]),
    ]  # fmt: skip


def bandit_argv(targets: Sequence[str]) -> list[str]:
    """bandit with medium+ confidence, noisy checks skipped."""
    excluded = ",".join(f"*/{name}/*" for name in EXCLUDED_DIRS)
    return [
        f"{TOOLS_MOUNT}/bin/bandit", "--format", "json", "--quiet", "--exit-zero",
        "--confidence-level", "medium",
        "--skip", ",".join(catalog.bandit_skipped()),
        "--exclude", excluded,
        *(["--recursive", "."] if not targets else targets),
    ]  # fmt: skip


def _load(stdout: str, tool: Tool) -> Any:
    try:
        return json.loads(stdout)
    except json.JSONDecodeError as err:
        raise AnalyzerError(f"{tool.value} printed no JSON: {stdout[:200]!r}") from err


def parse_semgrep(stdout: str, rules: dict[str, RuleInfo]) -> tuple[list[Finding], list[str]]:
    """Findings and error messages out of ``semgrep --json``."""
    data = _load(stdout, Tool.SEMGREP)
    findings = []
    for item in data.get("results", []):
        rule_id = item["check_id"].rsplit(".", 1)[-1]
        rule = rules.get(rule_id)
        extra = item.get("extra", {})
        findings.append(
            Finding(
                tool=Tool.SEMGREP,
                rule_id=rule_id,
                path=relative_posix(item["path"], WORKSPACE_MOUNT),
                start_line=item["start"]["line"],
                end_line=item["end"]["line"],
                start_column=item["start"].get("col", 1),
                end_column=item["end"].get("col"),
                severity=rule.severity if rule else Severity.MEDIUM,
                cwe=rule.cwe if rule else catalog.cwe_numbers(extra.get("metadata", {}).get("cwe")),
                message=" ".join(str(extra.get("message", rule_id)).split()),
                fix_hint=rule.fix_hint if rule else "",
            )
        )
    errors = [_semgrep_error(error) for error in data.get("errors", [])]
    return findings, errors


def _semgrep_error(error: dict[str, Any]) -> str:
    where = error.get("path") or error.get("rule_id") or ""
    text = " ".join(str(error.get("message", error.get("type", "error"))).split())
    return f"{error.get('level', 'error')}: {where}: {text[:300]}".replace(": :", ":")


def parse_ruff(stdout: str, root: str = WORKSPACE_MOUNT) -> list[Finding]:
    """Findings out of ``ruff check --output-format json``; "seems safe" variants dropped.

    ruff reports absolute paths; ``root`` is the directory it ran in.
    """
    findings = []
    for item in _load(stdout, Tool.RUFF):
        code = item.get("code") or ""
        rule = catalog.check_rule(Tool.RUFF, code)
        if rule is None or "seems safe" in item.get("message", ""):
            continue
        end = item.get("end_location") or item["location"]
        findings.append(
            Finding(
                tool=Tool.RUFF,
                rule_id=code,
                path=relative_posix(item["filename"], root),
                start_line=item["location"]["row"],
                end_line=end["row"],
                start_column=item["location"]["column"],
                end_column=end["column"],
                severity=rule.severity,
                cwe=rule.cwe,
                message=item["message"].replace("`", "'"),
                fix_hint=rule.fix_hint,
            )
        )
    return findings


def parse_bandit(stdout: str) -> tuple[list[Finding], list[str]]:
    """Findings and errors out of ``bandit --format json``; bandit's LOW severity dropped."""
    data = _load(stdout, Tool.BANDIT)
    findings = []
    for item in data.get("results", []):
        rule = catalog.check_rule(Tool.BANDIT, item["test_id"])
        if rule is None and item.get("issue_severity") == "LOW":
            continue
        constant = catalog.check_number(item["test_id"]) in catalog.SHELL_CHECKS
        if constant and item.get("issue_severity") == "LOW":
            continue  # bandit saw a constant command (shell=True with a literal)
        cwe = rule.cwe if rule else _bandit_cwe(item)
        severity = rule.severity if rule else Severity(item["issue_severity"].lower())
        lines = item.get("line_range") or [item["line_number"]]
        findings.append(
            Finding(
                tool=Tool.BANDIT,
                rule_id=item["test_id"],
                path=relative_posix(item["filename"], WORKSPACE_MOUNT),
                start_line=item["line_number"],
                end_line=max(lines),
                start_column=item.get("col_offset", 0) + 1,
                end_column=(item["end_col_offset"] + 1) if item.get("end_col_offset") else None,
                severity=severity,
                cwe=cwe,
                message=item["issue_text"],
                fix_hint=rule.fix_hint if rule else f"See {item.get('more_info', 'bandit docs')}",
            )
        )
    errors = [f"{e.get('filename', '')}: {e.get('reason', '')}" for e in data.get("errors", [])]
    return findings, errors


def _bandit_cwe(item: dict[str, Any]) -> tuple[int, ...]:
    cwe = (item.get("issue_cwe") or {}).get("id")
    return (int(cwe),) if cwe else ()


def bandit_rule(item_id: str, finding: Finding) -> RuleInfo:
    """A descriptor for a bandit check outside our table, built from one of its findings."""
    return RuleInfo(
        tool=Tool.BANDIT,
        id=item_id,
        title=finding.message.split(".")[0][:80],
        cwe=finding.cwe,
        severity=finding.severity,
        fix_hint=finding.fix_hint,
    )
