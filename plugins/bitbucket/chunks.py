"""A pull request's unified diff split into LLM calls within a token budget, nothing silently cut.

Each file's diff is rendered with new-side line numbers (``  12 + code``) so the model names lines
the agent can comment on. Files are packed into chunks of at most ``chunk_tokens``; a file larger
than one chunk is split between hunks; a hunk larger than a chunk, binary files, ignored paths and
whatever no longer fits the review's ``total_tokens`` are listed as not reviewed, each with why.
Tokens are estimated at four characters each (no tokenizer download; the bound is conservative
for code, and the budgets leave room for the prompt and the answer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from plugins.bitbucket.findings import path_matches

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """A conservative token count of ``text``."""
    return len(text) // CHARS_PER_TOKEN + 1


@dataclass
class FileDiff:
    """One file of the diff: its hunks (rendered) and the text of each added line."""

    path: str
    binary: bool = False
    deleted: bool = False
    hunks: list[str] = field(default_factory=list)
    added: dict[int, str] = field(default_factory=dict)


@dataclass
class Chunk:
    """One LLM call's worth of diff."""

    files: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    tokens: int = 0

    @property
    def text(self) -> str:
        """The diff text the prompt carries."""
        return "\n".join(self.parts)


@dataclass
class Plan:
    """The chunks, and the files left out with the reason."""

    chunks: list[Chunk]
    not_reviewed: list[tuple[str, str]]
    files: dict[str, FileDiff]


def _path(line: str) -> str | None:
    spec = line[4:].rstrip("\t").strip()
    if spec == "/dev/null":
        return None
    if spec.startswith('"') and spec.endswith('"'):
        spec = spec[1:-1]
    return spec[2:] if spec[:2] in ("a/", "b/") else spec


def parse_files(diff: str) -> list[FileDiff]:
    """The files of a unified (git) diff, with numbered hunks and added lines."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    new_line = 0
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            current = FileDiff(path=line.rsplit(" b/", 1)[-1])
            files.append(current)
        elif current is None:
            continue
        elif line.startswith("Binary files ") or line.startswith("GIT binary patch"):
            current.binary = True
        elif line.startswith("+++ "):
            path = _path(line)
            current.deleted = path is None
            current.path = path or current.path
        elif line.startswith("--- ") and not current.hunks:
            continue
        elif (found := _HUNK.match(line)) is not None:
            new_line = int(found.group(3))
            current.hunks.append(f"@@ {current.path} from line {new_line} @@")
        elif current.hunks and line[:1] in ("+", "-", " ", "\\"):
            current.hunks[-1] += "\n" + _numbered(current, line, new_line)
            if line[:1] in ("+", " "):
                new_line += 1
    return files


def _numbered(file: FileDiff, line: str, number: int) -> str:
    mark, text = line[:1], line[1:]
    if mark == "+":
        file.added[number] = text
        return f"{number:>5} + {text}"
    if mark == " ":
        return f"{number:>5}   {text}"
    return f"{'':>5} {mark} {text}"


def plan_chunks(
    diff: str, *, chunk_tokens: int, total_tokens: int, ignore: Sequence[str] = ()
) -> Plan:
    """Pack the diff's files into chunks; everything left out is listed with its reason."""
    files = parse_files(diff)
    chunks: list[Chunk] = []
    skipped: list[tuple[str, str]] = []
    used = 0
    for file in files:
        if file.deleted or (not file.hunks and not file.binary):
            continue
        why = _excluded(file, ignore, chunk_tokens)
        if why is None:
            size = sum(estimate_tokens(h) for h in file.hunks)
            if used + size > total_tokens:
                why = f"not reviewed by the LLM: the review's {total_tokens} tokens were used up"
            else:
                used += size
                _pack(chunks, file, chunk_tokens)
        if why is not None:
            skipped.append((file.path, why))
    return Plan(chunks=chunks, not_reviewed=skipped, files={f.path: f for f in files})


def _excluded(file: FileDiff, ignore: Sequence[str], chunk_tokens: int) -> str | None:
    if path_matches(file.path, ignore):
        return "ignored by the review settings"
    if file.binary:
        return "binary file"
    biggest = max(estimate_tokens(h) for h in file.hunks)
    if biggest > chunk_tokens:
        return (
            f"not reviewed by the LLM: one change of ~{biggest} tokens is larger than one call's "
            f"budget of {chunk_tokens}"
        )
    return None


def _pack(chunks: list[Chunk], file: FileDiff, chunk_tokens: int) -> None:
    for hunk in file.hunks:
        size = estimate_tokens(hunk)
        if not chunks or chunks[-1].tokens + size > chunk_tokens:
            chunks.append(Chunk())
        chunk = chunks[-1]
        chunk.parts.append(hunk)
        chunk.tokens += size
        if file.path not in chunk.files:
            chunk.files.append(file.path)
