"""Bitbucket DC's JSON diff (``diffs[].hunks[].segments[].lines[]``) from a unified git diff."""

from __future__ import annotations

import re
from typing import Any

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_KIND = {"+": "ADDED", "-": "REMOVED", " ": "CONTEXT"}


def _path(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    parts = value.split("/")
    return {
        "components": parts,
        "name": parts[-1],
        "parent": "/".join(parts[:-1]),
        "toString": value,
    }


def parse_unified(diff: str) -> list[dict[str, Any]]:
    """One entry per file with hunks split into ADDED/REMOVED/CONTEXT segments."""
    files: list[dict[str, Any]] = []
    hunk: dict[str, Any] | None = None
    src = dst = 0
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            files.append({"source": None, "destination": None, "hunks": [], "truncated": False})
            hunk = None
        elif line.startswith("--- ") and hunk is None:
            files[-1]["source"] = _path(None if line[4:] == "/dev/null" else line[6:])
        elif line.startswith("+++ ") and hunk is None:
            files[-1]["destination"] = _path(None if line[4:] == "/dev/null" else line[6:])
        elif match := _HUNK.match(line):
            src, dst = int(match[1]), int(match[3])
            hunk = {
                "sourceLine": src,
                "sourceSpan": int(match[2] or 1),
                "destinationLine": dst,
                "destinationSpan": int(match[4] or 1),
                "segments": [],
                "truncated": False,
            }
            files[-1]["hunks"].append(hunk)
        elif hunk is not None and line[:1] in _KIND:
            kind = _KIND[line[:1]]
            if not hunk["segments"] or hunk["segments"][-1]["type"] != kind:
                hunk["segments"].append({"type": kind, "lines": [], "truncated": False})
            hunk["segments"][-1]["lines"].append(
                {"source": src, "destination": dst, "line": line[1:], "truncated": False}
            )
            src += kind != "ADDED"
            dst += kind != "REMOVED"
    return files
