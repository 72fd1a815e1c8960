"""A fitted model's estimate: snapping, ranges and explanations."""

from __future__ import annotations

import json

import pytest

from core.estimation import Story, StoryPointModel, fit_model
from tests.core.estimation.synthetic import make_history


@pytest.fixture(scope="module")
def model() -> StoryPointModel:
    extra = [Story(f"X-{i}", f"misc chore {i}", "", float(i % 2 * 3 + 2)) for i in range(4)]
    return fit_model(make_history(296, seed=11) + extra)


def test_snap_goes_to_the_nearest_scale_value(model: StoryPointModel) -> None:
    assert list(model.scale) == [1, 2, 3, 5, 8]
    assert model.snap(6.4) == 5
    assert model.snap(4.0) == 3  # a tie goes to the lower value
    assert model.snap(100) == 8
    assert model.snap(0) == 1


def test_estimate_and_range_sit_on_the_scale(model: StoryPointModel) -> None:
    for title in ("fix typo in docs", "new button on toolbar", "engine sharding", "delta"):
        estimate = model.estimate(title)
        assert estimate.low <= estimate.points <= estimate.high
        assert {estimate.low, estimate.points, estimate.high} <= set(model.scale)


def test_explanation_lists_the_three_most_similar_stories(model: StoryPointModel) -> None:
    estimate = model.estimate("migrate engine to new database omega")
    assert len(estimate.similar) == 3
    scores = [s.similarity for s in estimate.similar]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.5
    assert all("engine" in s.title for s in estimate.similar)
    assert all(s.key.startswith("T-") for s in estimate.similar)


def test_estimate_is_json_serialisable(model: StoryPointModel) -> None:
    document = json.loads(json.dumps(model.estimate("add button to dialog").to_dict()))
    assert document["points"] == 3 and document["basis"] == "text-model"
    assert document["model"].startswith("text(") and document["history_size"] == 300
    assert set(document["similar"][0]) == {"key", "title", "points", "similarity"}
