"""The interprocedural taint pass (``sandbox.analysis.flow``) as an analyzer of the engine.

The pass is pure standard-library Python. It runs in the sandbox with the tools venv's
interpreter: its modules are handed over as one argument (JSON, zlib, base64) and loaded by a
short bootstrap
(``python -I -c``), so nothing is written into the analysed tree and nothing from the host's
``sys.path`` is importable there. Besides findings it reports the sinks it saw and proved clean
(constant or sanitised data in every calling context); the engine drops other tools' findings of
the same weakness on those lines (see ``suppress_proven_clean``).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from sandbox.analysis.flow.specs import RULES
from sandbox.analysis.merge import family
from sandbox.analysis.models import Finding, RuleInfo, Severity, Tool
from sandbox.backends.base import TOOLS_MOUNT

FLOW_DIR = Path(__file__).resolve().parent / "flow"
PACKAGES = ("sandbox", "sandbox.analysis", "sandbox.analysis.flow")
# Dependency order: a module is executed after the modules it imports.
MODULES = (
    "values", "specs", "program", "containers", "evaluate", "checks", "guards", "methods",
    "statements", "interp", "runner",
)  # fmt: skip
# Linux limits one argv string to 128 KiB (MAX_ARG_STRLEN); the sources must fit with room.
MAX_PAYLOAD = 120_000

_BOOTSTRAP = """\
import base64, json, sys, types, zlib
names, sources = json.loads(zlib.decompress(base64.b64decode(sys.argv[1])))
for pkg in names:
    mod = types.ModuleType(pkg); mod.__path__ = []; sys.modules[pkg] = mod
for name, source in sources:
    mod = types.ModuleType(name); mod.__file__ = name; sys.modules[name] = mod
    parent, _, child = name.rpartition('.')
    setattr(sys.modules[parent], child, mod)
    exec(compile(source, name, 'exec'), mod.__dict__)
raise SystemExit(sys.modules['sandbox.analysis.flow.runner'].main(sys.argv[2:]))
"""


class DataflowError(ValueError):
    """The pass's output could not be understood."""


class PartialRun(Exception):  # noqa: N818 - an outcome, not a failure of ours
    """The pass stopped early (statement budget): its findings stand, the run is incomplete."""

    def __init__(
        self, findings: list[Finding], errors: list[str], clean: set[tuple[str, int, int]]
    ) -> None:
        super().__init__("; ".join(errors))
        self.findings, self.errors, self.clean = findings, errors, clean


@cache
def payload() -> str:
    """The pass's sources, as the bootstrap's first argument."""
    sources = [
        (f"sandbox.analysis.flow.{name}", (FLOW_DIR / f"{name}.py").read_text()) for name in MODULES
    ]
    text = json.dumps([list(PACKAGES), sources], separators=(",", ":"))
    packed = base64.b64encode(zlib.compress(text.encode(), 9)).decode()
    if len(packed) > MAX_PAYLOAD:
        raise DataflowError(f"dataflow sources pack to {len(packed)} bytes, over {MAX_PAYLOAD}")
    return packed


def argv(targets: Sequence[str]) -> list[str]:
    """The command that runs the pass in the sandbox (cwd = the workspace)."""
    return [f"{TOOLS_MOUNT}/bin/python", "-I", "-S", "-c", _BOOTSTRAP, payload(), *targets]


def rules() -> dict[str, RuleInfo]:
    """The pass's rules as report descriptors."""
    return {
        rule.id: RuleInfo(
            tool=Tool.DATAFLOW,
            id=rule.id,
            title=rule.title,
            cwe=rule.cwe,
            severity=Severity(rule.severity),
            fix_hint=rule.fix_hint,
        )
        for rule in RULES.values()
    }


def parse(stdout: str) -> tuple[list[Finding], list[str], set[tuple[str, int, int]]]:
    """Findings, error messages and proven-clean sinks ``(path, line, CWE family)``."""
    try:
        data: dict[str, Any] = json.loads(stdout)
    except json.JSONDecodeError as err:
        raise DataflowError(f"dataflow printed no JSON: {stdout[:200]!r}") from err
    known = rules()
    findings = []
    for item in data.get("findings", []):
        rule = known.get(item["rule_id"])
        if rule is None:
            raise DataflowError(f"dataflow reported an unknown rule {item['rule_id']!r}")
        findings.append(
            Finding(
                tool=Tool.DATAFLOW,
                rule_id=rule.id,
                path=item["path"],
                start_line=item["line"],
                end_line=max(item["line"], item.get("end_line") or item["line"]),
                start_column=max(1, item.get("column") or 1),
                end_column=item.get("end_column") or None,
                severity=rule.severity,
                cwe=rule.cwe,
                message=item["message"],
                fix_hint=rule.fix_hint,
            )
        )
    clean = {(c["path"], c["line"], family(cwe)) for c in data.get("clean", []) for cwe in c["cwe"]}
    errors = [str(e) for e in data.get("errors", [])]
    if not data.get("complete", True):
        raise PartialRun(findings, errors, clean)
    return findings, errors, clean


def suppress_proven_clean(
    findings: Iterable[Finding], clean: set[tuple[str, int, int]]
) -> list[Finding]:
    """Other tools' findings on sinks the pass proved clean, of the same weakness, dropped.

    A finding stays when the pass itself found a problem of that weakness on the line, when the
    pass never reached the sink (unknown origin) or when the finding has no CWE.
    """
    kept = list(findings)
    flagged = {
        (f.path, f.start_line, family(c)) for f in kept if f.tool is Tool.DATAFLOW for c in f.cwe
    }
    proven = clean - flagged
    return [
        f
        for f in kept
        if f.tool is Tool.DATAFLOW
        or not f.cwe
        or not all((f.path, f.start_line, family(c)) in proven for c in f.cwe)
    ]
