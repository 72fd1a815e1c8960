"""The agent's one comment: ADF for Cloud (REST v3), wiki markup for Data Center (REST v2).

``blocks(report)`` decides what the comment says; ``to_adf`` and ``to_wiki`` only decide how it is
written, so both flavours always say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugin_sdk.atlassian.adf import bullet_list, doc, heading, paragraph, text_node
from plugins.jira.analysis import Verdict
from plugins.jira.mentions import Command
from plugins.jira.report import Report

Span = tuple[str, bool]  # (text, bold)
HELP = [
    "analyze: functional and technical analysis",
    "estimate: story points from this team's own history, with a range and similar stories",
    "split: propose smaller stories (split confirm: create them as sub-tasks)",
    "similar: likely duplicates and related past issues",
    "help: this list (no command: analyze + estimate)",
]
_VERDICTS = {
    Verdict.READY: "Ready",
    Verdict.NEEDS_WORK: "Needs work",
    Verdict.NOT_READY: "Not ready",
}
# Characters that start wiki markup mid-line (lines themselves never start with list marks here).
_WIKI_SPECIAL = re.compile(r"([*_{}\[\]|!^~+])")  # not "\\": "\\\\" is a line break


@dataclass(frozen=True)
class Block:
    """A heading, a paragraph or a bullet list of spans."""

    kind: str  # "heading" | "para" | "list"
    spans: tuple[Span, ...] = ()
    items: tuple[tuple[Span, ...], ...] = ()


def _h(text: str) -> Block:
    return Block("heading", ((text, False),))


def _p(*spans: Span) -> Block:
    return Block("para", spans)


def _ul(items: Sequence[tuple[Span, ...]]) -> Block:
    return Block("list", items=tuple(items))


def _plain(lines: list[str]) -> list[tuple[Span, ...]]:
    return [((line, False),) for line in lines]


def _points(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _mode(report: Report) -> Block:
    if report.mode == "llm":
        return _p(("Mode: ", True), (f"LLM analysis (prompt {report.prompt}).", False))
    why = f" {report.note}." if report.note else ""
    return _p(("Mode: ", True), (f"deterministic rules, no LLM.{why}", False))


def _functional(report: Report) -> list[Block]:
    out = [_h("Functional analysis")]
    if report.verdict is not None:
        out.append(
            _p(("Readiness: ", True), (f"{_VERDICTS[report.verdict]}. {report.summary}", False))
        )
    out.append(_p(("User value: ", True), (report.user_value or "not stated", False)))
    out.append(
        _ul(
            [
                ((("✓ " if c.ok else "✗ ") + c.name, True), (f": {c.note}", False))
                for c in report.invest
            ]
        )
    )
    if report.untestable_criteria:
        out += [_p(("Criteria that cannot be checked as written:", True))]
        out.append(_ul(_plain(report.untestable_criteria)))
    if report.ambiguous_words:
        out.append(_p(("Vague words: ", True), (", ".join(report.ambiguous_words), False)))
    if report.open_questions:
        out += [_p(("Open questions:", True)), _ul(_plain(report.open_questions))]
    return out


def _technical(report: Report) -> list[Block]:
    out = [_h("Technical analysis")]
    rows = [
        ("Likely components: ", ", ".join(report.components) or "none found in similar issues"),
        ("Risks: ", "; ".join(report.risks) or "none recognised"),
        ("Dependencies: ", "; ".join(report.dependencies) or "no linked issues"),
    ]
    out += [_p((label, True), (value, False)) for label, value in rows]
    if report.test_approach:
        out += [_p(("Test approach:", True)), _ul(_plain(report.test_approach))]
    return out


def _similar(report: Report) -> list[Block]:
    items = [
        ((ref.key, True), (f" {ref.summary} ({_points(ref.points)} pts)", False))
        for ref in report.similar
    ]
    return [_h("Similar past issues"), _ul(items) if items else _p(("none found", False))]


def _estimate(report: Report) -> list[Block]:
    out = [_h("Estimate")]
    est = report.estimate
    if est is None:
        return [
            *out,
            _p(("No number: ", True), (report.estimate_note or "too little history", False)),
        ]
    out.append(
        _p(
            (f"{_points(est.points)} story points", True),
            (f" (likely {_points(est.low)} to {_points(est.high)}; from {est.history_size} "
             f"past stories of this site, {est.basis}).", False),
        )
    )  # fmt: skip
    if est.caveat:
        out.append(_p(("Note: ", True), (f"{est.caveat}.", False)))
    if est.similar:
        out.append(_p(("Most similar past stories:", False)))
        out.append(
            _ul(
                [
                    ((r.key, True), (f" {r.summary} ({_points(r.points)} pts)", False))
                    for r in est.similar
                ]
            )
        )
    return out


def _split(report: Report) -> list[Block]:
    if report.created:
        made = "Created as sub-tasks: " + ", ".join(report.created) + "."
        return [_h("Split"), _ul(_plain(report.split)), _p((made, False))]
    if not report.split:
        return [_h("Split"), _p(("No split proposed: the story looks small enough.", False))]
    hint = "Reply with the mention and 'split confirm' to create them as sub-tasks."
    return [_h("Proposed split"), _ul(_plain(report.split)), _p((hint, False))]


def blocks(report: Report) -> list[Block]:
    """What the comment says, for ``report.command``."""
    head = [_h(f"dcoder agent on {report.key}"), _mode(report)]
    command = report.command
    if command is Command.HELP:
        unknown = [_p((report.note, False))] if report.note else []
        return [
            _h("dcoder agent: commands"),
            *unknown,
            _p(("Mention me followed by one of:", False)),
            _ul(_plain(HELP)),
        ]
    body: list[Block] = []
    if command in (Command.DEFAULT, Command.ANALYZE):
        body += _functional(report) + _technical(report)
    if command in (Command.DEFAULT, Command.ESTIMATE):
        body += _estimate(report)
    if command in (Command.SIMILAR, Command.ANALYZE):
        body += _similar(report)
    if command in (Command.SPLIT, Command.SPLIT_CONFIRM):
        body += _split(report)
    return head + body


def _adf_spans(spans: tuple[Span, ...]) -> list[dict[str, Any]]:
    return [text_node(text, "strong") if bold else text_node(text) for text, bold in spans if text]


def to_adf(report: Report) -> dict[str, Any]:
    """The comment as an ADF document (Cloud, REST v3)."""
    out: list[dict[str, Any]] = []
    for block in blocks(report):
        if block.kind == "heading":
            out.append(heading(block.spans[0][0], 3))
        elif block.kind == "para":
            out.append(paragraph(*_adf_spans(block.spans)))
        else:
            out.append(bullet_list([_adf_spans(item) for item in block.items]))
    return doc(*out)


def wiki_escape(text: str) -> str:
    """``text`` with wiki markup's special characters escaped."""
    return _WIKI_SPECIAL.sub(r"\\\1", text)


def _wiki_spans(spans: tuple[Span, ...]) -> str:
    out = ""
    for text, bold in spans:
        if not text:
            continue
        if out.endswith("*") and text[:1].isalnum():
            out += " "  # a bold mark closes only before a non-word character
        out += f"*{wiki_escape(text.strip())}*" if bold else wiki_escape(text)
    return out.strip()


def to_wiki(report: Report) -> str:
    """The comment as wiki markup (Data Center, REST v2)."""
    lines: list[str] = []
    for block in blocks(report):
        if block.kind == "heading":
            lines.append(f"h3. {wiki_escape(block.spans[0][0])}")
        elif block.kind == "para":
            lines.append(_wiki_spans(block.spans))
        else:
            lines += [f"* {_wiki_spans(item)}" for item in block.items]
            lines.append("")
    return "\n".join(lines).strip() + "\n"
