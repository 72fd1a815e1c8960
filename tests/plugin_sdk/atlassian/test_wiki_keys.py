"""Wiki markup -> text, and issue keys in free text."""

from __future__ import annotations

from plugin_sdk.atlassian import issue_keys, wiki_to_text


def test_wiki_to_text_drops_marks_keeps_structure() -> None:
    markup = (
        "h2. Acceptance Criteria\n"
        "* *Given* a user, when they log in then _it works_\n"
        "** nested [the docs|http://x] by [~accountid:123] or [~bob]\n"
        "# one\n"
        "# two\n"
        "{code:java}\na*b*c_d\n{code}\n"
        "||a||b||\n|1|2|\n"
        "{color:red}red{color} {{mono}} -gone- +under+ !image.png! x-y UTF-8"
    )
    assert wiki_to_text(markup).split("\n") == [
        "Acceptance Criteria",
        "- Given a user, when they log in then it works",
        "  - nested the docs by @123 or @bob",
        "1. one",
        "2. two",
        "a*b*c_d",
        "a | b",
        "1 | 2",
        "red mono gone under  x-y UTF-8",
    ]
    assert wiki_to_text(None) == "" and wiki_to_text("") == ""


def test_escaped_characters_are_literal_and_double_backslash_breaks_the_line() -> None:
    assert wiki_to_text(r"\*not bold\* \[~bob\] a\\b") == "*not bold* [~bob] a\nb"


def test_issue_keys_in_order_without_repeats_or_look_alikes() -> None:
    text = "Fix ABC-12 (see XABC-3), not abc-4, AB-01, UTF-8 or SHA-256; AB-1 and ABC-12 again"
    assert issue_keys(text) == ["ABC-12", "XABC-3", "AB-1"]
    assert issue_keys("feature/ABC-7-login and ABC-7.") == ["ABC-7"]


def test_issue_keys_of_known_projects_only() -> None:
    assert issue_keys("UTF-8 ABC-1 XYZ-2", projects=["abc", "UTF"]) == ["UTF-8", "ABC-1"]
