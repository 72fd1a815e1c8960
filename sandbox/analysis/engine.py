"""The analysis engine: run semgrep, ruff and bandit in a sandbox and merge what they find.

``analyze`` copies the tree into a workspace of the given backend (our semgrep rules mounted
read-only at ``/config``), runs the analyzers in parallel, keeps findings on changed lines
when a base is given, de-duplicates them across tools and fingerprints them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox.analysis import analyzers, catalog, dataflow
from sandbox.analysis.analyzers import AnalysisOptions, AnalyzerError
from sandbox.analysis.diffmap import ChangedLines, changed_lines
from sandbox.analysis.merge import assign_fingerprints, deduplicate, sort_key
from sandbox.analysis.models import AnalysisReport, Finding, RuleInfo, Tool, ToolRun
from sandbox.backends.base import Limits, SandboxBackend, Workspace

ProgressCallback = Callable[[str], None]

# Top-level files of the analysed project that would steer our analyzers; left out of the copy.
TOOL_CONFIGS = (".git", ".semgrepignore", ".semgrep", ".semgrep.yml", ".bandit")


def analyze(
    source_dir: Path,
    *,
    base: str | None = None,
    backend: SandboxBackend,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    options: AnalysisOptions | None = None,
) -> AnalysisReport:
    """Analyse ``source_dir`` (only lines changed since ``base`` when given) in the sandbox."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    options = options or AnalysisOptions()
    limits = limits or Limits()
    source_dir = source_dir.resolve()
    changes: ChangedLines | None = None
    if base is not None:
        say(f"diff against {base}")
        changes = changed_lines(source_dir, base)
        say(f"{len(changes)} changed file(s)")
    report = AnalysisReport(
        source=source_dir.name,
        base=base,
        backend=backend.name,
        changed_files=sorted(changes) if changes is not None else None,
    )
    if changes is not None and not changes:
        report.runs = [ToolRun(tool=tool, ok=True, skipped=True) for tool in options.tools]
    else:
        targets = _targets(changes)
        findings, report.runs = collect(source_dir, targets, backend, limits, options, say)
        findings = _keep_changed(findings, changes)
        _attach_snippets(findings, source_dir)
        findings = deduplicate(findings)
        assign_fingerprints(findings)
        report.findings = sorted(findings, key=sort_key)
        report.rules = _rules_of(report.findings, options.rules_dir)
    report.duration_s = time.perf_counter() - started
    say(f"done: {len(report.findings)} finding(s) in {report.duration_s:.1f} s")
    return report


def _targets(changes: ChangedLines | None) -> list[str]:
    """Files to analyse: all (empty list) or the changed ones outside excluded directories."""
    if changes is None:
        return []
    excluded = set(analyzers.EXCLUDED_DIRS)
    return [path for path in sorted(changes) if not excluded & set(path.split("/")[:-1])]


def collect(
    source_dir: Path,
    targets: list[str],
    backend: SandboxBackend,
    limits: Limits,
    options: AnalysisOptions,
    say: ProgressCallback = lambda _message: None,
) -> tuple[list[Finding], list[ToolRun]]:
    """Raw findings of each analyzer (no filtering, no merging) on ``targets`` (all when empty)."""
    say(f"preparing {backend.name} workspace")
    ws = backend.prepare(source_dir, config_dir=options.rules_dir, exclude=TOOL_CONFIGS)
    try:
        (ws.host_path / ".semgrepignore").write_text(analyzers.semgrepignore())
        with ThreadPoolExecutor(max_workers=len(options.tools) if options.parallel else 1) as pool:
            futures = [
                pool.submit(_run_one, tool, ws, targets, backend, limits, options, say)
                for tool in options.tools
            ]
            results = [future.result() for future in futures]
    finally:
        backend.cleanup(ws)
    findings = [finding for found, _run, _clean in results for finding in found]
    clean = set().union(*(proven for _found, _run, proven in results))
    if clean:  # the dataflow pass proved these sinks safe: other tools' alarms there are noise
        findings = dataflow.suppress_proven_clean(findings, clean)
    return findings, [run for _found, run, _clean in results]


def _run_one(
    tool: Tool,
    ws: Workspace,
    targets: list[str],
    backend: SandboxBackend,
    limits: Limits,
    options: AnalysisOptions,
    say: ProgressCallback,
) -> tuple[list[Finding], ToolRun, set[tuple[str, int, int]]]:
    """Run one analyzer and parse its output; failures become the run's error, not exceptions.

    The third item: sinks the dataflow pass proved clean (empty for the other tools).
    """
    py_targets = [path for path in targets if path.endswith((".py", ".pyi"))]
    if tool is not Tool.SEMGREP and targets and not py_targets:
        return [], ToolRun(tool=tool, ok=True, skipped=True), set()
    argv = {
        Tool.SEMGREP: lambda: analyzers.semgrep_argv(targets, options),
        Tool.RUFF: lambda: analyzers.ruff_argv(py_targets),
        Tool.BANDIT: lambda: analyzers.bandit_argv(py_targets),
        Tool.DATAFLOW: lambda: dataflow.argv(py_targets),
    }[tool]()
    result = backend.run(ws, argv, limits)
    run = ToolRun(tool=tool, ok=result.ok, exit_code=result.exit_code, duration_s=result.duration_s)
    if result.killed_reason is not None:
        run.error = f"stopped by the sandbox: {result.killed_reason.value}"
    clean: set[tuple[str, int, int]] = set()
    try:
        if tool is Tool.DATAFLOW:
            try:
                findings, errors, clean = dataflow.parse(result.stdout)
            except dataflow.PartialRun as partial:  # findings stand, the run is incomplete
                findings, errors, clean = partial.findings, partial.errors, set()
                run.ok = False
        else:
            findings, errors = _parse(tool, result.stdout, options.rules_dir)
    except (AnalyzerError, dataflow.DataflowError) as err:
        run.ok = False
        run.error = run.error or f"{err}; stderr: {result.stderr.strip()[-500:]}"
        return [], run, set()
    if errors:
        run.error = "; ".join(errors[:5])
    run.findings = len(findings)
    say(f"{tool.value}: {len(findings)} finding(s) in {result.duration_s:.1f} s")
    return findings, run, clean


def _parse(tool: Tool, stdout: str, rules_dir: Path) -> tuple[list[Finding], list[str]]:
    if tool is Tool.SEMGREP:
        return analyzers.parse_semgrep(stdout, catalog.semgrep_rules(rules_dir))
    if tool is Tool.RUFF:
        return analyzers.parse_ruff(stdout), []
    return analyzers.parse_bandit(stdout)


def _keep_changed(findings: list[Finding], changes: ChangedLines | None) -> list[Finding]:
    if changes is None:
        return findings
    return [f for f in findings if f.start_line in changes.get(f.path, set())]


def _attach_snippets(findings: list[Finding], source_dir: Path) -> None:
    """Fill ``snippet`` from the host copy (semgrep OSS does not report line text)."""
    cache: dict[str, list[str]] = {}
    for finding in findings:
        if finding.path not in cache:
            path = (source_dir / finding.path).resolve()
            inside = path.is_relative_to(source_dir) and path.is_file()
            cache[finding.path] = path.read_text(errors="replace").splitlines() if inside else []
        lines = cache[finding.path]
        if 0 < finding.start_line <= len(lines):
            finding.snippet = lines[finding.start_line - 1].strip()[:500]


def _rules_of(findings: list[Finding], rules_dir: Path) -> list[RuleInfo]:
    """Descriptors of the rules that produced (or co-reported) the findings."""
    semgrep = catalog.semgrep_rules(rules_dir)
    rules: dict[str, RuleInfo] = {}
    for finding in findings:
        for key in [finding.rule_key, *finding.also_reported_by]:
            tool_name, _, rule_id = key.partition("/")
            tool = Tool(tool_name)
            if tool is Tool.DATAFLOW:
                rule = dataflow.rules().get(rule_id)
            elif tool is Tool.SEMGREP:
                rule = semgrep.get(rule_id)
            else:
                rule = catalog.check_rule(tool, rule_id)
            if rule is None and key == finding.rule_key:
                rule = analyzers.bandit_rule(rule_id, finding)
            if rule is not None:
                rules.setdefault(key, rule)
    return sorted(rules.values(), key=lambda r: r.key)
