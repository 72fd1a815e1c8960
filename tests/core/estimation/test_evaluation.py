"""Evaluation over a directory of histories against the constant median and mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.estimation.evaluation import evaluate_directory, markdown_table, summary
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
