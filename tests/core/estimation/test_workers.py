"""Logistic fits spread over a helper process give exactly the results of fitting here."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from scipy import sparse

from core.estimation import FitConfig, dumps, fit_model, workers
from core.estimation.text import TextFeatures, story_text
from core.estimation.workers import FitTask, Fitter, fit_threshold
from tests.core.estimation.synthetic import make_history


def _problem() -> tuple[sparse.csr_matrix, list[FitTask]]:
    stories = make_history(400, seed=11, noise=0.2)
    _, matrix = TextFeatures.fit_transform([story_text(s.title, s.description) for s in stories])
    points = np.array([s.points for s in stories])
    weights = [np.ones(len(points)), np.linspace(0.2, 1.0, len(points))]
    tasks = [
        FitTask((points <= t).astype(np.int8), w, c)
        for c in (1.0, 3.0) for w in weights for t in (1.0, 3.0, 5.0)
    ]  # fmt: skip
    return matrix.astype(np.float64), tasks


def _same(left: list[tuple[np.ndarray, float]], right: list[tuple[np.ndarray, float]]) -> bool:
    return len(left) == len(right) and all(
        np.array_equal(a, b) and x == y for (a, x), (b, y) in zip(left, right, strict=True)
    )


def test_a_helper_process_gives_bit_identical_results() -> None:
    features, tasks = _problem()
    here = [fit_threshold(features, task) for task in tasks]
    with Fitter(2) as fitter:
        assert len(fitter.helpers) == 1
        assert _same(fitter.map(features, tasks), here)
        # Another matrix (a selection window's rows) in the same session.
        part = [FitTask(t.below[:200], t.weights[:200], t.c) for t in tasks[:3]]
        assert _same(
            fitter.map(features[:200], part), [fit_threshold(features[:200], t) for t in part]
        )
        helper, scratch = fitter.helpers[0].process, fitter.scratch
        assert scratch is not None and scratch.is_dir()
    assert helper.poll() is not None  # closing stops the helper
    assert not scratch.exists()  # and removes the shared files


def test_a_helper_that_dies_costs_time_not_results() -> None:
    features, tasks = _problem()
    here = [fit_threshold(features, task) for task in tasks]
    with Fitter(2) as fitter:
        fitter.helpers[0].process.kill()
        fitter.helpers[0].process.wait()
        assert _same(fitter.map(features, tasks), here)
        assert not fitter.helpers[0].alive
        assert _same(fitter.map(features, tasks), here)  # later batches simply run here


def test_a_stuck_helper_is_stopped_and_its_share_refitted_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    features, tasks = _problem()
    here = [fit_threshold(features, task) for task in tasks]
    monkeypatch.setattr(workers, "HELPER_GRACE_S", 0.5)
    with Fitter(2) as fitter:
        helper = fitter.helpers[0]
        os.kill(helper.process.pid, signal.SIGSTOP)  # it takes a fit and never answers
        assert _same(fitter.map(features, tasks), here)
        assert not helper.alive and helper.process.poll() is not None


def test_fit_model_is_the_same_with_any_number_of_workers() -> None:
    history = make_history(300, seed=12, noise=0.15)
    alone = fit_model(history, FitConfig(workers=1))
    spread = fit_model(history, FitConfig(workers=2, parallel_min_stories=0))
    assert dumps(spread) == dumps(alone)
