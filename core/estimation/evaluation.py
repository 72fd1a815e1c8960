"""Evaluate the estimator on a directory of project histories against constant baselines."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.estimation.fitting import FitConfig, fit_model
from core.estimation.history import Story, chronological_split, read_history_csv
from core.estimation.text import story_text

WITHIN = 2.0
# Backtest windows: fit on the stories before ``origin`` (share of the whole file), score the next
# ``BACKTEST_HORIZON``. The last one is train -> val; none reaches the test split.
BACKTEST_ORIGINS = (0.4, 0.5, 0.6)
BACKTEST_HORIZON = 0.2


@dataclass(frozen=True)
class ProjectResult:
    """Test-split errors of the model and of the constant median and mean of the same history."""

    project: str
    n_test: int
    mae: float
    mdae: float
    within_2: float
    median_mae: float
    median_mdae: float
    median_within_2: float
    mean_mae: float
    mean_mdae: float
    mean_within_2: float
    model: str
    fit_s: float

    @property
    def beats_median(self) -> bool:
        """Strictly lower MAE than the constant median."""
        return self.mae < self.median_mae


def _errors(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    error = np.abs(truth - predicted)
    return float(error.mean()), float(np.median(error)), float((error <= WITHIN).mean())


def evaluate_project(
    path: Path, config: FitConfig | None = None, progress: Callable[[str], None] | None = None
) -> ProjectResult:
    """Fit on train+val (selecting on val), score the test split of one CSV history."""
    stories, marks = read_history_csv(path)
    split = chronological_split(stories, marks)
    if not split.test or not split.train:
        raise ValueError(f"{path}: too few stories for a train/test split")
    history = split.train + split.val
    started = time.perf_counter()
    model = fit_model(history, config, validation_start=len(split.train), progress=progress)
    fit_s = time.perf_counter() - started
    truth = np.array([s.points for s in split.test])
    predicted = model.predict([story_text(s.title, s.description) for s in split.test])
    fitted_points = np.array([s.points for s in history])
    ours = _errors(truth, predicted)
    median = _errors(truth, np.full(len(truth), np.median(fitted_points)))
    mean = _errors(truth, np.full(len(truth), fitted_points.mean()))
    return ProjectResult(
        path.stem, len(truth), *ours, *median, *mean, model.candidate.describe(), fit_s
    )


def evaluate_directory(
    directory: Path, config: FitConfig | None = None, progress: Callable[[str], None] | None = None
) -> list[ProjectResult]:
    """Evaluate every ``*.csv`` in ``directory`` (sorted by name)."""
    paths = sorted(directory.glob("*.csv"))
    if not paths:
        raise FileNotFoundError(f"no *.csv history in {directory}")
    say = progress or (lambda _msg: None)
    results = []
    for number, path in enumerate(paths, start=1):
        say(f"[{number}/{len(paths)}] {path.stem}")
        results.append(evaluate_project(path, config, progress))
        done = results[-1]
        say(
            f"[{number}/{len(paths)}] {path.stem}: MAE {done.mae:.3f}, median {done.median_mae:.3f}"
        )
    return results


@dataclass(frozen=True)
class BacktestResult:
    """Errors on one chronological window before the test split (for choosing a design)."""

    project: str
    origin: float
    n: int
    mae: float
    median_mae: float
    model: str

    @property
    def beats_median(self) -> bool:
        """Strictly lower MAE than the median of the same history."""
        return self.mae < self.median_mae


def backtest_windows(
    stories: list[Story],
    marks: list[str] | None = None,
    origins: tuple[float, ...] = BACKTEST_ORIGINS,
    horizon: float = BACKTEST_HORIZON,
) -> list[tuple[float, list[Story], list[Story]]]:
    """``(origin, history, next stories)`` windows drawn from train+val only, never from test."""
    split = chronological_split(stories, marks)
    usable = split.train + split.val
    windows = []
    for origin in origins:
        start = int(origin * len(stories))
        end = min(int((origin + horizon) * len(stories)), len(usable))
        if 0 < start < end:
            windows.append((origin, usable[:start], usable[start:end]))
    return windows


def backtest_project(
    path: Path, config: FitConfig | None = None, progress: Callable[[str], None] | None = None
) -> list[BacktestResult]:
    """Fit the whole pipeline on each window's history and score the stories that follow."""
    results = []
    for origin, history, later in backtest_windows(*read_history_csv(path)):
        model = fit_model(history, config, progress=progress)
        truth = np.array([s.points for s in later])
        predicted = model.predict([story_text(s.title, s.description) for s in later])
        median = np.median([s.points for s in history])
        mae = _errors(truth, predicted)[0]
        median_mae = _errors(truth, np.full(len(truth), median))[0]
        results.append(
            BacktestResult(
                path.stem, origin, len(truth), mae, median_mae, model.candidate.describe()
            )
        )
    return results


def summary(results: list[ProjectResult]) -> dict[str, Any]:
    """The ``estimate-eval --json`` document."""
    return {
        "projects": [asdict(r) for r in results],
        "mean_mae": float(np.mean([r.mae for r in results])),
        "mean_median_mae": float(np.mean([r.median_mae for r in results])),
        "mean_mean_mae": float(np.mean([r.mean_mae for r in results])),
        "beats_median": sum(r.beats_median for r in results),
        "n_projects": len(results),
    }


def _mark(mae: float, wins: bool) -> str:
    return f"**{mae:.3f}**" if wins else f"{mae:.3f}"


def markdown_table(results: list[ProjectResult], report: dict[str, Any]) -> str:
    """Markdown table of an evaluation and its summary line (CLI and benchmark)."""
    head = (
        "| project | n test | MAE | MdAE | within ±2 | median MAE | median MdAE | median ±2 "
        "| mean MAE | model chosen on val |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r.project} | {r.n_test} | {_mark(r.mae, r.beats_median)} | {r.mdae:.2f} "
        f"| {r.within_2:.1%} "
        f"| {r.median_mae:.3f} | {r.median_mdae:.2f} | {r.median_within_2:.1%} "
        f"| {r.mean_mae:.3f} | {r.model} |"
        for r in results
    ]
    tail = (
        "\nBold: lower MAE than the constant median of the same history."
        f"\nMean MAE over {report['n_projects']} projects: model **{report['mean_mae']:.3f}**, "
        f"median {report['mean_median_mae']:.3f}, mean {report['mean_mean_mae']:.3f}. "
        f"The model beats the median on {report['beats_median']} of {report['n_projects']}."
    )
    return "\n".join([head, *rows, tail])
