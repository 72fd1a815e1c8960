"""Fitting: the model learns an obvious text relation and falls back to the median when it must."""

from __future__ import annotations

import numpy as np
import pytest

from core.estimation import FitConfig, Story, fit_model
from core.estimation.fitting import MEDIAN, _choose
from core.estimation.model import Candidate
from core.estimation.text import story_text
from tests.core.estimation.synthetic import make_history


def test_recovers_an_obvious_text_to_points_relation() -> None:
    model = fit_model(make_history(300, seed=1))
    assert model.ordinal is not None and model.fallback_reason is None
    assert model.estimate("fix typo in docs").points == 1
    assert model.estimate("add button to dialog", "kappa beta").points == 3
    assert model.estimate("rewrite storage engine").points == 8
    assert model.validation["mae"] < model.validation["median_mae"]


def test_beats_the_median_on_new_stories() -> None:
    history, later = make_history(300, seed=2), make_history(100, seed=3)
    model = fit_model(history)
    truth = np.array([s.points for s in later])
    predicted = model.predict([story_text(s.title, s.description) for s in later])
    median = np.median([s.points for s in history])
    assert np.abs(truth - predicted).mean() < 0.5 * np.abs(truth - median).mean()


def test_fitting_is_deterministic() -> None:
    first, second = fit_model(make_history(150, seed=9)), fit_model(make_history(150, seed=9))
    assert first.ordinal is not None and second.ordinal is not None
    assert np.array_equal(first.ordinal.coef, second.ordinal.coef)
    assert first.validation == second.validation


def test_empty_descriptions_are_fine() -> None:
    model = fit_model(make_history(200, seed=4, describe=False))
    estimate = model.estimate("spelling error in help text", "")
    assert estimate.basis == "text-model" and estimate.points == 1


def test_single_valued_history_falls_back_with_a_flag() -> None:
    stories = [Story(f"S-{i}", f"story {i}", "", 5.0) for i in range(60)]
    estimate = fit_model(stories).estimate("anything at all")
    assert (estimate.points, estimate.low, estimate.high) == (5, 5, 5)
    assert estimate.basis == "median"
    assert estimate.fallback_reason == "every story in the history has 5 points"


def test_tiny_history_falls_back_to_its_median_but_still_explains() -> None:
    stories = [
        Story("A-1", "fix typo", "", 1.0),
        Story("A-2", "add button", "", 3.0),
        Story("A-3", "engine rewrite", "", 8.0),
        Story("A-4", "another button", "", 3.0),
        Story("A-5", "small typo", "", 1.0),
    ]
    model = fit_model(stories)
    estimate = model.estimate("engine rewrite again")
    assert model.ordinal is None
    assert estimate.points == 3 and estimate.basis == "median"
    assert estimate.fallback_reason is not None and "needs 40" in estimate.fallback_reason
    assert estimate.similar[0].key == "A-3"


def test_a_story_with_unknown_words_gets_the_median_with_a_flag() -> None:
    model = fit_model(make_history(200, seed=5))
    estimate = model.estimate("zzzz qqqq")
    assert estimate.basis == "median"
    assert estimate.fallback_reason == (
        "no word or character n-gram of this story occurs in the history"
    )
    assert estimate.points == model.predict(["zzzz qqqq"])[0]
    assert estimate.similar == []


def test_a_text_model_that_fails_on_validation_is_not_used() -> None:
    # Drift: the words that meant small stories mean large ones in the newest quarter.
    train = make_history(90, seed=7, noise=0.0)
    flipped = {1.0: 8.0, 8.0: 1.0, 3.0: 3.0}
    val = [Story(s.key, s.title, s.description, flipped[s.points]) for s in make_history(30, 8, 0)]
    model = fit_model(train + val, validation_start=90)
    assert model.ordinal is None
    assert model.fallback_reason == (
        "the text model did worse than the median on validation by over 20%"
    )
    assert model.estimate("fix typo in docs").basis == "median"


def test_validation_start_and_config_are_honoured() -> None:
    stories = make_history(100, seed=6)
    progress: list[str] = []
    model = fit_model(stories, FitConfig(c_values=(1.0,), half_lives=(None,)), 70, progress.append)
    assert model.validation["n"] == 30
    assert any("validated the text ensemble on 70+30" in line for line in progress)
    assert progress[-1].startswith("fitted ")


def test_empty_history_is_refused() -> None:
    with pytest.raises(ValueError, match="empty history"):
        fit_model([])


def _text(shrink: float) -> Candidate:
    return Candidate(True, None, shrink)


def test_the_default_shrink_is_kept_unless_another_wins_clearly() -> None:
    config = FitConfig()  # default shrink 0.25, switch margin 2 %, median margin 20 %
    close = {MEDIAN: 1.0, _text(0.0): 0.99, _text(0.25): 1.0, _text(0.5): 1.01}
    assert _choose(close, config) == (_text(0.25), None)
    clear = {MEDIAN: 1.0, _text(0.0): 0.9, _text(0.25): 1.0, _text(0.5): 1.01}
    assert _choose(clear, config) == (_text(0.0), None)


def test_a_small_loss_to_the_median_on_validation_keeps_the_text_model() -> None:
    config = FitConfig()
    small = {MEDIAN: 1.0, _text(0.0): 1.15, _text(0.25): 1.1, _text(0.5): 1.12}
    assert _choose(small, config) == (_text(0.25), None)
    large = {MEDIAN: 1.0, _text(0.0): 1.3, _text(0.25): 1.25, _text(0.5): 1.3}
    assert _choose(large, config)[0] == MEDIAN
