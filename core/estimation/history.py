"""Resolved stories of one team, read from CSV, and the chronological split used for evaluation."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from core.errors import ValidationFailed

REQUIRED_COLUMNS = ("issuekey", "title", "description", "storypoint")
SPLIT_NAMES = ("train", "val", "test")


class HistoryInvalid(ValidationFailed):
    """A story history file is missing columns or holds a bad story-point value."""

    code = "estimation-history-invalid"
    title = "Story history invalid"


@dataclass(frozen=True, slots=True)
class Story:
    """One resolved story; a history is a list of them in creation order."""

    key: str
    title: str
    description: str
    points: float


@dataclass(frozen=True, slots=True)
class Split:
    """Chronological train / validation / test parts of one history."""

    train: list[Story]
    val: list[Story]
    test: list[Story]


def _points(raw: str, path: Path, line: int) -> float:
    try:
        value = float(raw)
    except ValueError as err:
        raise HistoryInvalid(f"{path}:{line}: story point {raw!r} is not a number") from err
    if not math.isfinite(value) or value < 0:
        raise HistoryInvalid(f"{path}:{line}: story point {raw!r} must be finite and >= 0")
    return value


def read_history_csv(path: Path) -> tuple[list[Story], list[str] | None]:
    """Read stories (creation order) and their ``split_mark`` column when the file has one."""
    csv.field_size_limit(2**31 - 1)  # descriptions can be long
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise HistoryInvalid(f"{path}: missing column(s) {', '.join(missing)}")
        has_split = "split_mark" in (reader.fieldnames or [])
        stories: list[Story] = []
        marks: list[str] = []
        for line, row in enumerate(reader, start=2):
            stories.append(
                Story(
                    key=row["issuekey"] or f"row-{line}",
                    title=row["title"] or "",
                    description=row["description"] or "",
                    points=_points(row["storypoint"] or "", path, line),
                )
            )
            marks.append((row.get("split_mark") or "").strip())
    usable = has_split and all(mark in SPLIT_NAMES for mark in marks)
    return stories, marks if usable else None


def chronological_split(stories: list[Story], marks: list[str] | None = None) -> Split:
    """Split by ``marks`` when given, else the standard 60/20/20 split in creation order."""
    if marks is not None:
        parts: dict[str, list[Story]] = {name: [] for name in SPLIT_NAMES}
        for story, mark in zip(stories, marks, strict=True):
            parts[mark].append(story)
        return Split(parts["train"], parts["val"], parts["test"])
    n = len(stories)
    first, second = int(0.6 * n), int(0.8 * n)
    return Split(stories[:first], stories[first:second], stories[second:])
