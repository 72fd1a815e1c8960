"""Jira wiki markup (v2 and Data Center bodies) to plain text.

Keeps what a reader or a rule needs: headings and list items on their own lines (items as
``- `` / ``1. ``), code and noformat blocks verbatim, link texts, mentions as ``@id``. Formatting
marks, colours, panels and images are dropped.
"""

from __future__ import annotations

import re

_BLOCK = re.compile(r"\{(code|noformat)(?::[^}]*)?\}(.*?)\{\1\}", re.DOTALL)
_TAGS = re.compile(r"\{(?:quote|color(?::[^}]*)?|panel(?::[^}]*)?|anchor:[^}]*)\}")
_HEADING = re.compile(r"^\s*h[1-6]\.\s*")
_LIST = re.compile(r"^\s*([*#-]+)\s+")
_MENTION = re.compile(r"\[~(?:accountid:)?([^\]|]+)\]")
_LINK = re.compile(r"\[([^\]|]*)\|([^\]]*)\]|\[((?:https?|mailto|file):[^\]]*)\]")
_IMAGE = re.compile(r"![^!\s][^!]*!")
_MONO = re.compile(r"\{\{(.*?)\}\}")
# A mark opens after start/space/punctuation and closes before end/space/punctuation.
_MARKS = [
    re.compile(rf"(?<![\w{m}]){re.escape(m)}(?=\S)(.+?)(?<=\S){re.escape(m)}(?![\w{m}])")
    for m in ("*", "_", "+", "^", "~", "??")
]
_ESCAPED = re.compile(r"\\([*_{}\[\]|!^~+?#-])")
_SHIELD = re.compile(r"\x01(\d+)\x01")
_STRIKE = re.compile(r"(?<![\w-])-(?=\S)([^-\n]+?)(?<=\S)-(?![\w-])")


def _inline(line: str) -> str:
    # Backslash-escaped characters are literal: shield them from every rule below.
    line = _ESCAPED.sub(lambda m: f"\x01{ord(m.group(1))}\x01", line)
    line = _IMAGE.sub("", line)
    line = _MENTION.sub(lambda m: "@" + m.group(1), line)
    line = _LINK.sub(lambda m: m.group(1) or m.group(2) or m.group(3) or "", line)
    line = _MONO.sub(r"\1", line)
    for mark in _MARKS:
        line = mark.sub(r"\1", line)
    line = _STRIKE.sub(r"\1", line)
    line = line.replace("\\\\", "\n")
    return _SHIELD.sub(lambda m: chr(int(m.group(1))), line)


def _line(line: str, counters: dict[int, int]) -> str:
    if line.lstrip().startswith("|"):
        cells = [c.strip() for c in re.split(r"\|\|?", line.strip().strip("|")) if c.strip()]
        return " | ".join(_inline(c) for c in cells)
    line = _HEADING.sub("", line)
    listed = _LIST.match(line)
    if listed is None:
        counters.clear()
        return _inline(line)
    marks = listed.group(1)
    indent = "  " * (len(marks) - 1)
    if marks.endswith("#"):
        counters[len(marks)] = counters.get(len(marks), 0) + 1
        marker = f"{counters[len(marks)]}. "
    else:
        marker = "- "
    return indent + marker + _inline(line[listed.end() :])


def wiki_to_text(markup: str | None) -> str:
    """Plain text of a wiki-markup body (``""`` for ``None``)."""
    if not markup:
        return ""
    verbatim: list[str] = []

    def keep(match: re.Match[str]) -> str:
        verbatim.append(match.group(2).strip("\n"))
        return f"\x00{len(verbatim) - 1}\x00"

    text = _TAGS.sub("", _BLOCK.sub(keep, markup.replace("\r\n", "\n")))
    counters: dict[int, int] = {}
    lines = [_line(line, counters).rstrip() for line in text.split("\n")]
    out = "\n".join(lines)
    out = re.sub(r"\x00(\d+)\x00", lambda m: verbatim[int(m.group(1))], out)
    return re.sub(r"\n{3,}", "\n\n", out).strip()
