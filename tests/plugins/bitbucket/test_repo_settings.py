""".dcoder/review.yaml: strict parsing with clear errors, merged over the instance defaults."""

from __future__ import annotations

import pytest

from plugins.bitbucket.findings import Severity
from plugins.bitbucket.repo_settings import (
    Effective,
    ReviewSettings,
    SettingsInvalid,
    merge,
    parse_repo_file,
)

DEFAULTS = ReviewSettings(ignore=["vendor/"], instructions="Be brief.", max_comments=10)


def test_full_file_merges_over_defaults() -> None:
    text = """
version: 1
ignore: ["docs/", "*.lock"]
severity_threshold: medium
fail_on: medium
max_comments: 5
instructions: Flag raw SQL.
analyzers: {bandit: false, llm: false}
skip: {branches: ["release/*"], authors: [renovate-bot]}
"""
    merged = merge(DEFAULTS, parse_repo_file(text))
    assert merged.ignore == ["vendor/", "docs/", "*.lock"]  # the instance's ignores stay
    assert merged.severity_threshold is Severity.MEDIUM and merged.fail_on is Severity.MEDIUM
    assert merged.max_comments == 5
    assert merged.instructions == "Be brief.\nFlag raw SQL."
    assert merged.analyzers.tools() == ["semgrep", "ruff", "dataflow"]
    assert merged.analyzers.llm is False
    assert merged.skip.branches == ["release/*"] and merged.skip.drafts is True
    assert merged.skip.authors == ["renovate-bot"]


def test_empty_file_is_the_defaults() -> None:
    assert merge(DEFAULTS, parse_repo_file("")) == DEFAULTS


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("severity_threshold: critical", "severity_threshold"),
        ("max_comments: 1000", "max_comments"),
        ("ignored: [x]", "ignored"),  # a typo is refused, not silently ignored
        ("analyzers: {semgrepp: false}", "analyzers.semgrepp"),
        ("skip: {drafts: maybe}", "skip.drafts"),
        ("version: 2", "version"),
        ("- a\n- b", "must be a mapping"),
        ("ignore: [unclosed", "not valid YAML (line"),
    ],
)
def test_bad_files_are_refused_with_the_key(text: str, says: str) -> None:
    with pytest.raises(SettingsInvalid) as caught:
        parse_repo_file(text)
    assert says in caught.value.reason


def test_size_cap_and_binary() -> None:
    with pytest.raises(SettingsInvalid, match="larger than 64 KiB"):
        parse_repo_file("#" * (65 * 1024))
    with pytest.raises(SettingsInvalid, match="not valid YAML"):
        parse_repo_file(b"\xff\xfe\x00")


def test_effective_settings_say_where_they_came_from() -> None:
    none = Effective.resolve(DEFAULTS, None, "a" * 40)
    assert none.settings == DEFAULTS and none.source == "instance defaults" and none.note is None
    good = Effective.resolve(DEFAULTS, b"max_comments: 3", "abcdef1234567890")
    assert good.settings.max_comments == 3 and good.source == ".dcoder/review.yaml at abcdef123456"
    bad = Effective.resolve(DEFAULTS, b"max_comments: lots", "abcdef1234567890")
    assert bad.settings == DEFAULTS and bad.note is not None and "max_comments" in bad.note
