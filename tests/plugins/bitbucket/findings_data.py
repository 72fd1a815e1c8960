"""Findings shared by the pure tests (an analysis report as the sandbox job returns it)."""

from __future__ import annotations

from typing import Any

from plugins.bitbucket.findings import ReviewFinding, Severity, fingerprint


def finding(
    path: str = "app.py", line: int = 3, severity: str = "high", **extra: Any
) -> ReviewFinding:
    """An analyzer finding with a fingerprint of its own."""
    rule = str(extra.pop("rule", "semgrep/py-sql-injection"))
    return ReviewFinding(
        source=extra.pop("source", "analyzer"),
        rule=rule,
        path=path,
        line=line,
        severity=Severity(severity),
        message=extra.pop("message", "request data reaches SQL text"),
        fingerprint=extra.pop("fp", fingerprint(rule, path, f"line {line}")),
        **extra,
    )


REPORT: dict[str, Any] = {
    "source": "checkout",
    "base": "origin/main",
    "backend": "bwrap",
    "changed_files": ["app.py"],
    "findings": [
        {
            "tool": "semgrep",
            "rule_id": "py-sql-injection",
            "path": "app.py",
            "start_line": 9,
            "end_line": 9,
            "severity": "high",
            "cwe": [89],
            "message": "User input from request.args reaches cursor.execute",
            "fix_hint": "Pass values as query parameters.",
            "snippet": "cur.execute(f'SELECT * FROM t WHERE id={x}')",
            "fingerprint": "f" * 32,
            "also_reported_by": ["bandit/B608"],
        },
        {
            "tool": "ruff",
            "rule_id": "S602",
            "path": "tools/run.py",
            "start_line": 4,
            "end_line": 4,
            "severity": "low",
            "cwe": [78],
            "message": "subprocess call with shell=True",
            "snippet": "subprocess.run(cmd, shell=True)",
            "fingerprint": "",
        },
    ],
    "rules": [
        {
            "tool": "semgrep",
            "id": "py-sql-injection",
            "title": "SQL injection",
            "cwe": [89],
            "severity": "high",
        }
    ],
    "runs": [],
}
