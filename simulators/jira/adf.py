"""Conversions between Jira wiki markup (v2 bodies) and Atlassian Document Format (v3 bodies).

Only what comments and descriptions need: paragraphs, plain text and user mentions, which wiki
markup writes as ``[~accountid:ID]`` and ADF as a ``mention`` node.
"""

from __future__ import annotations

import re
from typing import Any

MENTION = re.compile(r"\[~accountid:([^\]]+)\]")


def _paragraph(line: str, names: dict[str, str]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    position = 0
    for match in MENTION.finditer(line):
        if match.start() > position:
            content.append({"type": "text", "text": line[position : match.start()]})
        account = match.group(1)
        text = "@" + names.get(account, account)
        content.append({"type": "mention", "attrs": {"id": account, "text": text}})
        position = match.end()
    if position < len(line):
        content.append({"type": "text", "text": line[position:]})
    return {"type": "paragraph", "content": content}


def wiki_to_adf(text: str, names: dict[str, str] | None = None) -> dict[str, Any]:
    """An ADF document with one paragraph per non-empty line (mentions become mention nodes)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return {
        "type": "doc",
        "version": 1,
        "content": [_paragraph(line, names or {}) for line in lines],
    }


def _inline(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        text = str(node.get("text", ""))
        strong = any(m.get("type") == "strong" for m in node.get("marks", []))
        return f"*{text}*" if strong and text.strip() else text
    if kind == "mention":
        return f"[~accountid:{node.get('attrs', {}).get('id', '')}]"
    if kind == "hardBreak":
        return "\n"
    return "".join(_inline(child) for child in node.get("content", []))


def _block(node: dict[str, Any], bullet: str = "") -> list[str]:
    kind = node.get("type")
    children = node.get("content", [])
    if kind == "heading":
        return [f"h{node.get('attrs', {}).get('level', 1)}. {_inline(node)}"]
    if kind in ("bulletList", "orderedList"):
        mark = (bullet or "") + ("*" if kind == "bulletList" else "#")
        return [line for item in children for line in _block(item, mark)]
    if kind == "listItem":
        lines = [line for child in children for line in _block(child, bullet)]
        return [f"{bullet} {lines[0]}", *lines[1:]] if lines else []
    return [_inline(node)]


def adf_to_wiki(doc: dict[str, Any]) -> str:
    """Wiki text of an ADF document as Jira's v2 shows it: block nodes become lines, headings
    ``h3.``, list items ``*`` / ``#``, bold ``*…*``, mentions stay mentions."""
    return "\n".join(line for block in doc.get("content", []) for line in _block(block))


def is_adf(value: Any) -> bool:
    """Whether ``value`` looks like an ADF document."""
    return isinstance(value, dict) and value.get("type") == "doc"


def mentioned_ids(text: str) -> list[str]:
    """Account ids mentioned in a wiki-markup body, in order, without repeats."""
    return list(dict.fromkeys(MENTION.findall(text)))
