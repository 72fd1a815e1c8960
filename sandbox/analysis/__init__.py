"""Sandboxed code analysis: semgrep (our rules), ruff and bandit, merged into one report.

``analyze(source_dir, base=..., backend=...)`` returns an ``AnalysisReport``; ``to_sarif``,
``to_markdown`` and ``to_json`` render it.
"""

from sandbox.analysis.analyzers import AnalysisOptions
from sandbox.analysis.engine import ProgressCallback, analyze
from sandbox.analysis.models import AnalysisReport, Finding, RuleInfo, Severity, Tool, ToolRun
from sandbox.analysis.render import to_json, to_markdown
from sandbox.analysis.sarif import to_sarif

__all__ = [
    "AnalysisOptions",
    "AnalysisReport",
    "Finding",
    "ProgressCallback",
    "RuleInfo",
    "Severity",
    "Tool",
    "ToolRun",
    "analyze",
    "to_json",
    "to_markdown",
    "to_sarif",
]
