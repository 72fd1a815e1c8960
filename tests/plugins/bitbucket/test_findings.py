"""Reading the analysis report, fingerprints, ranking, ignore globs, de-duplication."""

from __future__ import annotations

from plugins.bitbucket.findings import (
    Severity,
    dedupe,
    fingerprint,
    from_analysis,
    path_matches,
    ranked,
    select,
)
from tests.plugins.bitbucket.findings_data import REPORT, finding


def test_from_analysis_keeps_rule_cwe_fix_and_fingerprint() -> None:
    sql, shell = from_analysis(REPORT)
    assert (sql.rule, sql.title, sql.cwe, sql.line) == (
        "semgrep/py-sql-injection",
        "SQL injection",
        (89,),
        9,
    )
    assert sql.fingerprint == "f" * 32 and sql.also_reported_by == ("bandit/B608",)
    assert sql.fix_hint == "Pass values as query parameters."
    # a finding without one gets a fingerprint from its rule, path and line text
    assert shell.fingerprint == fingerprint(
        "ruff/S602", "tools/run.py", "subprocess.run(cmd, shell=True)"
    )


def test_fingerprint_ignores_line_numbers_and_whitespace_but_not_occurrence() -> None:
    a = fingerprint("llm/bug", "a.py", "x = load(  path )")
    assert a == fingerprint("llm/bug", "a.py", "  x = load( path )")
    assert a != fingerprint("llm/bug", "a.py", "x = load( path )", 1)
    assert a != fingerprint("llm/bug", "b.py", "x = load( path )")


def test_ranking_severity_then_analyzer_then_confidence() -> None:
    low = finding(line=1, severity="low")
    llm_high = finding(line=2, source="llm", rule="llm/bug", confidence=0.7)
    llm_high_sure = finding(line=3, source="llm", rule="llm/bug", confidence=0.95)
    high = finding(line=9)
    assert ranked([low, llm_high, llm_high_sure, high]) == [high, llm_high_sure, llm_high, low]
    assert Severity.HIGH.at_least(Severity.MEDIUM) and not Severity.LOW.at_least(Severity.MEDIUM)


def test_path_globs() -> None:
    assert path_matches("docs/a/b.md", ["docs/"])
    assert path_matches("src/docs/b.md", ["docs/"])
    assert path_matches("poetry.lock", ["*.lock"]) and path_matches("a/b/poetry.lock", ["*.lock"])
    assert path_matches("migrations/0001/x.sql", ["migrations/**/*.sql"])
    assert path_matches("migrations/x.sql", ["migrations/**/*.sql"])
    assert not path_matches("src/migrations/x.sql", ["migrations/**/*.sql"])
    assert not path_matches("app.py", ["*.lock", "docs/"])


def test_dedupe_drops_llm_repeats_of_analyzer_lines() -> None:
    analyzer = finding(line=5)
    llm_same_line = finding(line=5, source="llm", rule="llm/security", fp="x" * 32)
    llm_other = finding(line=6, source="llm", rule="llm/bug", fp="y" * 32)
    assert dedupe([llm_same_line, analyzer, llm_other, analyzer]) == [analyzer, llm_other]


def test_select_by_settings() -> None:
    high, low = finding(line=1), finding(line=2, severity="low")
    docs = finding(path="docs/x.py", line=3)
    chosen = select([low, docs, high], ["docs/"], Severity.MEDIUM)
    assert chosen.kept == [high] and chosen.below_threshold == [low] and chosen.ignored == [docs]
