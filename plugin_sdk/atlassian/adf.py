"""Atlassian Document Format (Jira v3 and Confluence bodies) to plain text and back.

``adf_to_text`` keeps the structure a reader (or a rule) needs: one line per paragraph, heading
and list item (items as ``- `` or ``1. ``), code blocks verbatim. Mentions become ``@Name`` for
reading, or ``[~accountid:ID]`` with ``mentions="wiki"`` so that the same command parser reads
v2 wiki bodies and v3 ADF bodies alike. Unknown nodes contribute their children's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

MentionStyle = Literal["name", "wiki"]
_BLOCKS = frozenset({"paragraph", "heading", "codeBlock", "blockquote", "rule", "panel"})


def is_adf(value: Any) -> bool:
    """Whether ``value`` looks like an ADF document."""
    return isinstance(value, dict) and value.get("type") == "doc"


def _children(node: dict[str, Any]) -> list[dict[str, Any]]:
    content = node.get("content")
    return [c for c in content if isinstance(c, dict)] if isinstance(content, list) else []


def _inline(node: dict[str, Any], mentions: MentionStyle) -> str:
    kind = node.get("type")
    raw = node.get("attrs")
    attrs: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        ident = str(attrs.get("id", ""))
        if mentions == "wiki":
            return f"[~accountid:{ident}]"
        return "@" + str(attrs.get("text") or ident).lstrip("@")
    if kind in ("emoji", "status", "date", "inlineCard"):
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("url") or "")
    return "".join(_inline(child, mentions) for child in _children(node))


def _blocks(node: dict[str, Any], mentions: MentionStyle, prefix: str = "") -> Iterator[str]:
    kind = node.get("type")
    if kind in ("bulletList", "orderedList"):
        for number, item in enumerate(_children(node), start=1):
            marker = "- " if kind == "bulletList" else f"{number}. "
            yield from _list_item(item, mentions, prefix + marker)
    elif kind == "taskList":
        for item in _children(node):
            done = (item.get("attrs") or {}).get("state") == "DONE"
            yield prefix + ("[x] " if done else "[ ] ") + _inline(item, mentions)
    elif kind == "table":
        for row in _children(node):
            cells = [" ".join(_blocks(cell, mentions)) for cell in _children(row)]
            yield prefix + " | ".join(cells)
    elif kind in _BLOCKS or kind not in ("doc", "listItem", "expand", "layoutSection"):
        yield prefix + _inline(node, mentions)
    else:
        for child in _children(node):
            yield from _blocks(child, mentions, prefix)


def _list_item(item: dict[str, Any], mentions: MentionStyle, marker: str) -> Iterator[str]:
    indent = " " * len(marker)
    for position, line in enumerate(
        line for child in _children(item) for line in _blocks(child, mentions)
    ):
        yield (marker if position == 0 else indent) + line


def adf_to_text(doc: Any, mentions: MentionStyle = "name") -> str:
    """Plain text of an ADF document (``""`` for anything that is not one)."""
    if not is_adf(doc):
        return ""
    lines = [line.rstrip() for child in _children(doc) for line in _blocks(child, mentions)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def mention_ids(doc: Any) -> list[str]:
    """Account ids of every ``mention`` node, in order, without repeats."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if node.get("type") == "mention":
            ident = (node.get("attrs") or {}).get("id")
            if isinstance(ident, str) and ident and ident not in found:
                found.append(ident)
        for child in _children(node):
            walk(child)

    walk(doc)
    return found


def text_node(text: str, *marks: str) -> dict[str, Any]:
    """A text node, optionally ``strong``/``em``/``code``."""
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = [{"type": mark} for mark in marks]
    return node


def paragraph(*inline: dict[str, Any]) -> dict[str, Any]:
    """A paragraph of inline nodes."""
    return {"type": "paragraph", "content": [n for n in inline if n.get("text", "x")]}


def heading(text: str, level: int = 3) -> dict[str, Any]:
    """A heading (levels 1-6)."""
    return {"type": "heading", "attrs": {"level": level}, "content": [text_node(text)]}


def bullet_list(items: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """A bullet list; each item is a list of inline nodes."""
    return {
        "type": "bulletList",
        "content": [{"type": "listItem", "content": [paragraph(*item)]} for item in items],
    }


def doc(*blocks: dict[str, Any]) -> dict[str, Any]:
    """An ADF document (version 1)."""
    return {"type": "doc", "version": 1, "content": list(blocks)}


def text_to_adf(text: str) -> dict[str, Any]:
    """An ADF document of plain text: blank-line separated paragraphs, ``- `` lines as lists."""
    blocks: list[dict[str, Any]] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if lines and all(line.lstrip().startswith("- ") for line in lines):
            items = [[text_node(line.lstrip()[2:])] for line in lines]
            blocks.append(bullet_list(items))
        elif lines:
            inline: list[dict[str, Any]] = []
            for position, line in enumerate(lines):
                if position:
                    inline.append({"type": "hardBreak"})
                inline.append(text_node(line))
            blocks.append({"type": "paragraph", "content": inline})
    return doc(*blocks)
