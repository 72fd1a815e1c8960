"""Entry point in the sandbox: analyse a tree, print findings and proven-clean sinks as JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from sandbox.analysis.flow.interp import Interp
from sandbox.analysis.flow.program import Program
from sandbox.analysis.flow.specs import RULES
from sandbox.analysis.flow.statements import BudgetExceeded

SKIPPED_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "site-packages",
    "__pycache__",
    ".tox",
    "build",
    "dist",
    "vendor",
    "third_party",
}


def python_files(root: Path) -> list[str]:
    """Every .py file under ``root`` outside dependency and build directories."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if not SKIPPED_DIRS & set(rel.parts[:-1]) and path.is_file() and not path.is_symlink():
            found.append(rel.as_posix())
    return found


def analyse(root: Path, targets: list[str]) -> dict[str, Any]:
    """Findings and clean sinks of ``targets`` (every Python file when empty)."""
    started = time.perf_counter()
    program = Program(root)
    files = [t for t in targets if t.endswith(".py")] or python_files(root)
    modules = [m for m in (program.load(path) for path in files) if m is not None]
    interp = Interp(program)
    errors = list(program.errors)
    complete = True
    try:
        for module in modules:  # load what targets import before deciding what is called
            interp.module_globals(module)
        called = program.called_names()
        for module in modules:
            interp.analyze_module(module, called)
    except BudgetExceeded:
        complete = False
        errors.append("dataflow: statement budget exhausted; results are partial")
    except RecursionError:
        complete = False
        errors.append("dataflow: nesting too deep; results are partial")
    return _report(interp, errors, complete, time.perf_counter() - started, len(program.modules))


def _report(
    interp: Interp, errors: list[str], complete: bool, seconds: float, modules: int
) -> dict[str, Any]:
    findings, clean = [], []
    for (path, line, rule_id), state in sorted(interp.verdicts.states.items()):
        if state == "tainted":
            end_line, col, end_col, message = interp.verdicts.messages[(path, line, rule_id)]
            findings.append(
                {
                    "rule_id": rule_id,
                    "path": path,
                    "line": line,
                    "end_line": end_line,
                    "column": col,
                    "end_column": end_col,
                    "message": message,
                }
            )
        elif state == "clean":
            clean.append({"path": path, "line": line, "cwe": list(RULES[rule_id].cwe)})
    return {
        "findings": findings,
        "clean": clean,
        "errors": errors,
        "complete": complete,
        "stats": {"seconds": round(seconds, 3), "modules": modules, "steps": interp.steps},
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.analysis.flow.runner [targets...]`` in the tree to analyse."""
    sys.setrecursionlimit(10_000)
    targets = list(sys.argv[1:] if argv is None else argv)
    print(json.dumps(analyse(Path.cwd(), targets)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
