"""ADF <-> text: structure kept, mentions in both styles, unknown nodes degrade to their text."""

from __future__ import annotations

from plugin_sdk.atlassian import adf_to_text, is_adf, mention_ids, text_to_adf

DOC = {
    "type": "doc",
    "version": 1,
    "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Goal"}]},
        {
            "type": "paragraph",
            "content": [
                {"type": "mention", "attrs": {"id": "712020:abc", "text": "@dcoder Agent"}},
                {"type": "text", "text": " estimate"},
                {"type": "hardBreak"},
                {"type": "text", "text": "please", "marks": [{"type": "strong"}]},
            ],
        },
        {
            "type": "bulletList",
            "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "one"}]}]},
                {"type": "listItem", "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "two"}]}]},
            ],
        },
        {"type": "orderedList", "content": [{"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "first"}]}]}]},
        {"type": "codeBlock", "content": [{"type": "text", "text": "x = 1"}]},
        {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "m"}}]},
        {"type": "paragraph", "content": [{"type": "mention", "attrs": {"id": "712020:abc"}}]},
    ],
}  # fmt: skip


def test_adf_to_text_keeps_lines_lists_and_readable_mentions() -> None:
    text = adf_to_text(DOC)
    assert text.split("\n") == [
        "Goal",
        "@dcoder Agent estimate",
        "please",
        "- one",
        "- two",
        "1. first",
        "x = 1",
        "",
        "@712020:abc",
    ]


def test_wiki_style_mentions_let_one_parser_read_v2_and_v3() -> None:
    assert adf_to_text(DOC, mentions="wiki").split("\n")[1] == "[~accountid:712020:abc] estimate"


def test_mention_ids_in_order_without_repeats() -> None:
    assert mention_ids(DOC) == ["712020:abc"]
    assert mention_ids({"type": "doc", "content": "broken"}) == []


def test_not_a_document_is_empty_text() -> None:
    assert adf_to_text("plain string") == "" and adf_to_text(None) == ""
    assert not is_adf({"type": "paragraph"}) and is_adf(DOC)


def test_text_to_adf_round_trips_paragraphs_and_lists() -> None:
    text = "First line\nsecond line\n\n- a\n- b"
    doc = text_to_adf(text)
    assert doc["type"] == "doc" and doc["version"] == 1
    assert [block["type"] for block in doc["content"]] == ["paragraph", "bulletList"]
    assert adf_to_text(doc) == "First line\nsecond line\n- a\n- b"
