"""The one comment in ADF (Cloud) and wiki markup (DC): same content, mode named, estimate shown."""

from __future__ import annotations

import json

from core.estimation import Estimate, SimilarStory
from core.paths import PROJECT_ROOT
from plugin_sdk.atlassian import adf_to_text, wiki_to_text
from plugins.jira.analysis import analyze_functional
from plugins.jira.answer import parse_answer
from plugins.jira.mentions import Command
from plugins.jira.render import to_adf, to_wiki, wiki_escape
from plugins.jira.report import Report, deterministic_report, llm_report, with_estimate
from plugins.jira.similarity import PastStory
from plugins.jira.story import Link, Story
from plugins.jira.technical import analyze_technical

STORY = Story(
    key="SHOP-7",
    summary="Export orders to CSV",
    description="As a manager I want a CSV of orders so that I can reconcile [payments].",
    acceptance_criteria=["Given orders, when I export, then a CSV downloads"],
)
HISTORY = [PastStory(key="SHOP-1", summary="Export invoices to CSV", points=3.0)]
ESTIMATE = Estimate(
    points=3.0,
    low=2.0,
    high=5.0,
    basis="text-model",
    fallback_reason=None,
    similar=[
        SimilarStory("SHOP-1", "Export invoices to CSV", 3.0, 0.8),
        SimilarStory("SHOP-5", "Export customers *fast*", 2.0, 0.6),
        SimilarStory("SHOP-4", "Import products", 5.0, 0.3),
    ],
    history_size=120,
)


def _report(command: Command = Command.DEFAULT, note: str | None = None) -> Report:
    functional = analyze_functional(STORY)
    technical = analyze_technical(STORY, HISTORY)
    return deterministic_report(STORY, command, functional, technical, note)


def _lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if line.strip())


def _texts(report: Report) -> tuple[str, str]:
    """Both flavours as text, blank lines (layout only) left out."""
    return _lines(adf_to_text(to_adf(report))), _lines(wiki_to_text(to_wiki(report)))


def test_adf_and_wiki_say_the_same_with_estimate_range_and_three_similar_stories() -> None:
    report = with_estimate(_report(), ESTIMATE, None)
    adf_text, wiki_text = _texts(report)
    assert adf_text == wiki_text
    assert "Mode: deterministic rules, no LLM." in adf_text
    assert "3 story points (likely 2 to 5; from 120 past stories" in adf_text
    for key in ("SHOP-1", "SHOP-5", "SHOP-4"):
        assert key in adf_text
    assert "Export customers *fast* (2 pts)" in wiki_text  # escaped in markup, intact as text
    assert "Functional analysis" in adf_text and "Technical analysis" in adf_text


def test_adf_is_a_valid_document_shape() -> None:
    doc = to_adf(with_estimate(_report(), ESTIMATE, None))
    assert doc["type"] == "doc" and doc["version"] == 1
    allowed = {"heading", "paragraph", "bulletList"}
    assert {block["type"] for block in doc["content"]} <= allowed
    texts = [n for n in json.dumps(doc).split('"text": ')[1:]]
    assert all(not t.startswith('""') for t in texts)  # ADF refuses empty text nodes


def test_too_little_history_gives_no_number() -> None:
    report = with_estimate(_report(Command.ESTIMATE), None, "12 resolved stories, 30 needed")
    adf_text, wiki_text = _texts(report)
    assert "No number: 12 resolved stories, 30 needed" in adf_text
    assert "story points" not in adf_text and "Functional analysis" not in adf_text
    assert adf_text == wiki_text


def test_llm_mode_names_the_prompt_and_fallback_names_the_reason() -> None:
    names = ["Independent", "Negotiable", "Valuable", "Estimable", "Small", "Testable"]
    answer = parse_answer(
        json.dumps(
            {
                "summary": "Good.",
                "invest": [{"name": n, "ok": True, "note": "ok"} for n in names],
                "verdict": "ready",
                "split": ["Export the file", "Email the file"],
            }
        )
    )
    technical = analyze_technical(STORY, HISTORY)
    report = llm_report(STORY, Command.SPLIT, answer, technical, "jira-analysis@v1")
    adf_text, _ = _texts(report)
    assert "Mode: LLM analysis (prompt jira-analysis@v1)." in adf_text
    assert "- Export the file" in adf_text and "split confirm" in adf_text
    fallback = _report(note="the LLM did not answer within 60 s")
    assert "no LLM. the LLM did not answer within 60 s." in _texts(fallback)[0]


def test_help_and_similar_commands() -> None:
    help_text, _ = _texts(_report(Command.HELP))
    assert "split confirm" in help_text and "Functional analysis" not in help_text
    similar_text, _ = _texts(_report(Command.SIMILAR))
    assert "Similar past issues" in similar_text and "SHOP-1 Export invoices to CSV" in similar_text


def test_wiki_escape() -> None:
    assert wiki_escape("a*b_[c]|{d}!") == "a\\*b\\_\\[c\\]\\|\\{d\\}\\!"
    assert wiki_to_text(wiki_escape("[~accountid:x] *bold*")) == "[~accountid:x] *bold*"


def test_the_example_in_the_docs_is_what_render_writes() -> None:
    story = Story(
        key="SHOP-7",
        summary="Export orders as CSV",
        description=(
            "As a shop manager I want to export the orders of a month as CSV so that I can "
            "reconcile payments in my accounting tool.\nThe export should be fast."
        ),
        acceptance_criteria=[
            "Given orders in March, when I export March, "
            "then a CSV downloads with one row per order",
            "A guest gets status 403",
        ],
        links=[Link(relation="is blocked by", key="SHOP-3", summary="Orders API")],
    )
    history = [
        PastStory(
            key="SHOP-1", summary="Export invoices to CSV", components=["reports", "backend"]
        ),
        PastStory(key="SHOP-5", summary="Export customers to a CSV file", components=["reports"]),
        PastStory(key="SHOP-2", summary="Login with SSO", components=["auth"]),
    ]
    estimate = Estimate(
        points=3.0,
        low=2.0,
        high=5.0,
        basis="text-model",
        fallback_reason=None,
        similar=[
            SimilarStory("SHOP-1", "Export invoices to CSV", 3.0, 0.8),
            SimilarStory("SHOP-5", "Export customers to a CSV file", 2.0, 0.7),
            SimilarStory("SHOP-9", "Monthly sales report", 5.0, 0.4),
        ],
        history_size=212,
    )
    functional, technical = analyze_functional(story), analyze_technical(story, history)
    report = deterministic_report(story, Command.DEFAULT, functional, technical)
    written = to_wiki(with_estimate(report, estimate, None))
    docs = (PROJECT_ROOT / "docs" / "agents" / "jira.md").read_text(encoding="utf-8")
    example = docs.split("## What the comment looks like", 1)[1].split("```\n", 2)[1]
    assert written == example, "docs/agents/jira.md's example comment is out of date"
