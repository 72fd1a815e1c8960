"""CSV histories and the chronological split."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.estimation import HistoryInvalid, chronological_split, read_history_csv
from tests.core.estimation.synthetic import make_history, write_csv


def test_reads_stories_and_split_marks(tmp_path: Path) -> None:
    stories = make_history(20)
    read, marks = read_history_csv(write_csv(tmp_path / "p.csv", stories))
    assert read == stories
    assert marks is not None and marks.count("train") == 12
    split = chronological_split(read, marks)
    assert (len(split.train), len(split.val), len(split.test)) == (12, 4, 4)


def test_without_split_marks_the_split_is_60_20_20_in_order(tmp_path: Path) -> None:
    stories = make_history(11)
    read, marks = read_history_csv(write_csv(tmp_path / "p.csv", stories, with_split=False))
    assert marks is None
    split = chronological_split(read, marks)
    assert split.train == stories[:6] and split.val == stories[6:8] and split.test == stories[8:]


def test_missing_column_and_bad_points_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("issuekey,title,storypoint\nA-1,x,3\n")
    with pytest.raises(HistoryInvalid, match="description"):
        read_history_csv(path)
    path.write_text("issuekey,title,description,storypoint\nA-1,x,,three\n")
    with pytest.raises(HistoryInvalid, match="bad.csv:2"):
        read_history_csv(path)
