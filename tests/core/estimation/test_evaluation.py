"""Evaluation over a directory of histories against the constant median and mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.estimation.evaluation import (
    backtest_project,
    backtest_windows,
    evaluate_directory,
    markdown_table,
    summary,
)
from core.estimation.history import chronological_split, read_history_csv
from tests.core.estimation.synthetic import make_history, write_csv


def test_evaluates_every_project_against_baselines_of_the_same_history(tmp_path: Path) -> None:
    stories = make_history(200, seed=31)
    write_csv(tmp_path / "alpha.csv", stories)
    write_csv(tmp_path / "beta.csv", make_history(150, seed=32), with_split=False)
    progress: list[str] = []
    results = evaluate_directory(tmp_path, progress=progress.append)
    assert [r.project for r in results] == ["alpha", "beta"]
    alpha = results[0]
    history = np.array([s.points for s in stories[:160]])
    test = np.array([s.points for s in stories[160:]])
    assert alpha.n_test == 40
    assert alpha.median_mae == pytest.approx(np.abs(test - np.median(history)).mean())
    assert alpha.mean_mae == pytest.approx(np.abs(test - history.mean()).mean())
    assert alpha.mae < alpha.median_mae and 0 <= alpha.within_2 <= 1
    report = summary(results)
    assert report["beats_median"] == 2 and report["n_projects"] == 2
    assert report["mean_mae"] == pytest.approx((results[0].mae + results[1].mae) / 2)
    assert any(line.startswith("[2/2] beta: MAE") for line in progress)
    assert "| alpha | 40 |" in markdown_table(results, report)


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        evaluate_directory(tmp_path)


def test_backtest_windows_end_before_the_test_split(tmp_path: Path) -> None:
    stories, marks = read_history_csv(write_csv(tmp_path / "p.csv", make_history(200, seed=33)))
    split = chronological_split(stories, marks)
    windows = backtest_windows(stories, marks)
    assert [origin for origin, _, _ in windows] == [0.4, 0.5, 0.6]
    test_keys = {s.key for s in split.test}
    for origin, history, later in windows:
        assert history == stories[: int(origin * 200)]
        assert later == stories[len(history) : len(history) + 40]
        assert not test_keys & {s.key for s in history + later}
    assert windows[-1][1:] == (split.train, split.val)


def test_backtest_scores_each_window_against_its_own_median(tmp_path: Path) -> None:
    stories = make_history(200, seed=34)
    results = backtest_project(write_csv(tmp_path / "gamma.csv", stories))
    assert [(r.project, r.origin, r.n) for r in results] == [
        ("gamma", 0.4, 40),
        ("gamma", 0.5, 40),
        ("gamma", 0.6, 40),
    ]
    history, later = stories[:120], np.array([s.points for s in stories[120:160]])
    assert results[-1].median_mae == pytest.approx(
        np.abs(later - np.median([s.points for s in history])).mean()
    )
    assert all(r.beats_median for r in results)
