"""Our semgrep rules against the annotated corpus: every `ruleid` fires, every `ok` stays quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT
from sandbox.analysis import catalog, corpus
from sandbox.analysis.analyzers import AnalysisOptions
from sandbox.analysis.engine import collect
from sandbox.analysis.models import Finding, Tool
from sandbox.backends.base import Limits, SandboxBackend

CORPUS = PROJECT_ROOT / "tests" / "corpus"


@pytest.fixture(scope="module")
def corpus_findings(bwrap_backend: SandboxBackend) -> list[Finding]:
    """Raw semgrep findings on the corpus, run through the sandbox like a review."""
    limits = Limits(wall_timeout_s=180, memory_mb=2048, pids=256)
    options = AnalysisOptions(tools=(Tool.SEMGREP,))
    findings, runs = collect(CORPUS, [], bwrap_backend, limits, options)
    assert runs[0].ok, runs[0].error
    return findings


def test_every_annotation_holds(corpus_findings: list[Finding]) -> None:
    scores = corpus.score(corpus.read_annotations(CORPUS), corpus_findings)
    wrong = {
        rule: {"missed": s.misses, "false alarms": s.false_alarms}
        for rule, s in scores.items()
        if s.misses or s.false_alarms
    }
    assert wrong == {}


def test_every_rule_has_vulnerable_and_safe_samples() -> None:
    notes = corpus.read_annotations(CORPUS)
    for rule_id in catalog.semgrep_rules():
        assert any(a.rule_id == rule_id and a.expected for a in notes), f"no ruleid: {rule_id}"
        assert any(a.rule_id == rule_id and not a.expected for a in notes), f"no ok: {rule_id}"
    unknown = {a.rule_id for a in notes} - set(catalog.semgrep_rules())
    assert unknown == set()


def test_every_rule_carries_cwe_severity_and_fix_hint() -> None:
    rules = catalog.semgrep_rules()
    assert len(rules) >= 30
    for rule in rules.values():
        assert rule.cwe, rule.id
        assert len(rule.fix_hint) > 20, rule.id
        assert rule.title != rule.id, rule.id
        assert "." not in rule.id  # SARIF ids are tool/rule; semgrep must not prefix them


def test_annotations_parse_the_semgrep_convention(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "# ruleid: r1, r2\n# a comment in between\nx = 1\ny = 2  # ok: r3\n"
    )
    notes = corpus.read_annotations(tmp_path)
    assert [(a.line, a.rule_id, a.expected) for a in notes] == [
        (3, "r1", True),
        (3, "r2", True),
        (4, "r3", False),
    ]
