"""The analysis report and its parts: rules, findings, tool runs (pydantic, JSON-ready)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """How urgent a finding is; maps onto SARIF levels."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def sarif_level(self) -> str:
        """The SARIF ``level`` of this severity."""
        return {"high": "error", "medium": "warning", "low": "note"}[self.value]

    @property
    def rank(self) -> int:
        """Sort key: 0 for the most urgent."""
        return ("high", "medium", "low").index(self.value)


class Tool(StrEnum):
    """The analyzers the engine runs."""

    SEMGREP = "semgrep"
    RUFF = "ruff"
    BANDIT = "bandit"
    DATAFLOW = "dataflow"  # our interprocedural taint pass (sandbox.analysis.flow)


class RuleInfo(BaseModel):
    """What a rule checks, as shown in reports and SARIF rule descriptors."""

    model_config = ConfigDict(frozen=True)

    tool: Tool
    id: str = Field(description="the tool's own rule id, e.g. py-sql-injection, S602, B602")
    title: str
    cwe: tuple[int, ...] = ()
    severity: Severity
    fix_hint: str = ""
    help_uri: str | None = None

    @property
    def key(self) -> str:
        """Rule id unique across tools (``semgrep/py-sql-injection``); the SARIF ``ruleId``."""
        return f"{self.tool.value}/{self.id}"


class Finding(BaseModel):
    """One problem at one place in the analysed tree."""

    tool: Tool
    rule_id: str
    path: str = Field(description="POSIX path relative to the analysed tree")
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    start_column: int = Field(1, ge=1)
    end_column: int | None = Field(None, ge=1)
    severity: Severity
    cwe: tuple[int, ...] = ()
    message: str
    fix_hint: str = ""
    snippet: str = Field("", description="the source line the finding starts on")
    fingerprint: str = Field(
        "", description="stable identity across commits and tools (no line numbers, no tool)"
    )
    earlier_fingerprints: list[str] = Field(
        default_factory=list,
        description="the same finding's identity under earlier schemes (dcoderFindingHash/v1: "
        "by rule), so that records kept under them still find it",
    )
    also_reported_by: list[str] = Field(
        default_factory=list, description="rule keys of other tools that found the same problem"
    )

    @property
    def rule_key(self) -> str:
        """Rule id unique across tools, e.g. ``bandit/B602``."""
        return f"{self.tool.value}/{self.rule_id}"


class ToolRun(BaseModel):
    """How one analyzer run went."""

    tool: Tool
    ok: bool
    skipped: bool = False
    exit_code: int | None = None
    duration_s: float = 0.0
    findings: int = 0
    error: str | None = None


class AnalysisReport(BaseModel):
    """Everything one analysis found, with enough context to render it."""

    source: str = Field(description="name of the analysed tree")
    base: str | None = Field(None, description="git base: only lines changed since it count")
    backend: str
    changed_files: list[str] | None = Field(None, description="files changed since base")
    findings: list[Finding] = Field(default_factory=list)
    rules: list[RuleInfo] = Field(default_factory=list, description="rules of the findings")
    runs: list[ToolRun] = Field(default_factory=list)
    duration_s: float = 0.0
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def complete(self) -> bool:
        """True when every analyzer ran to the end (else the findings may be partial)."""
        return all(run.ok for run in self.runs)

    def counts(self) -> dict[Severity, int]:
        """Number of findings per severity, every severity present."""
        counts = dict.fromkeys(Severity, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts


def relative_posix(path: str, root: str) -> str:
    """``path`` as reported by a tool (absolute under ``root`` or relative) made root-relative."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.relative_to(root)
        except ValueError:
            return candidate.as_posix()
    parts = [part for part in candidate.parts if part not in (".", "")]
    return "/".join(parts)
