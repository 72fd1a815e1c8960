"""The estimate the comment shows: no number on too little history, else the team's model."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.estimation import fit_model, read_history_csv
from core.paths import PROJECT_ROOT
from plugin_sdk.atlassian import adf_to_text
from plugins.jira.analysis import analyze_functional
from plugins.jira.estimate import estimate_story, to_history, too_little
from plugins.jira.mentions import Command
from plugins.jira.render import to_adf
from plugins.jira.report import deterministic_report, with_estimate
from plugins.jira.similarity import PastStory
from plugins.jira.story import Story
from plugins.jira.technical import analyze_technical

DATASET: Path = PROJECT_ROOT.parent / "shared" / "datasets" / "storypoints" / "mesos.csv"
STORY = Story(key="MESOS-1", summary="Add retries to the agent's registration", description="x")


def _mesos(count: int) -> list[PastStory]:
    if not DATASET.is_file():
        pytest.skip(f"dataset not present at {DATASET}")
    stories, _ = read_history_csv(DATASET)
    return [
        PastStory(key=s.key, summary=s.title, description=s.description, points=s.points)
        for s in stories[:count]
    ]


def test_history_keeps_only_stories_with_points_in_order() -> None:
    past = [PastStory(key="A-1", summary="a", points=3), PastStory(key="A-2", summary="b")]
    assert [(s.key, s.points) for s in to_history(past)] == [("A-1", 3.0)]


def test_too_little_history_gives_no_number_and_says_why() -> None:
    estimate, why = estimate_story(STORY, None, 12, 30)
    assert estimate is None
    assert why == (
        "too little history: 12 resolved stories with story points on this site; "
        "the agent gives a number from 30 on"
    )
    assert too_little(1, 30) is not None and "1 resolved story " in str(too_little(1, 30))
    assert estimate_story(STORY, None, 30, 30) == (
        None,
        "the team's model is still being fitted; mention me again in a few minutes",
    )


def test_real_history_gives_a_number_on_the_teams_scale_with_three_similar_stories() -> None:
    history = to_history(_mesos(80))
    model = fit_model(history)
    estimate, why = estimate_story(STORY, model, len(history), 30)
    assert why is None and estimate is not None
    scale = {s.points for s in history}
    assert {estimate.points, estimate.low, estimate.high} <= scale
    assert estimate.low <= estimate.points <= estimate.high and len(estimate.similar) == 3
    report = with_estimate(
        deterministic_report(
            STORY, Command.ESTIMATE, analyze_functional(STORY), analyze_technical(STORY, [])
        ),
        estimate,
        why,
    )
    text = adf_to_text(to_adf(report))
    assert f"{estimate.points:g} story points" in text and "from 80 past stories" in text
    assert all(s.key in text for s in estimate.similar)


def test_median_fallback_is_a_number_with_its_caveat() -> None:
    history = to_history(_mesos(35))  # below the estimator's text-model minimum
    estimate, _ = estimate_story(STORY, fit_model(history), len(history), 30)
    assert estimate is not None and estimate.basis == "median"
    report = with_estimate(
        deterministic_report(
            STORY, Command.ESTIMATE, analyze_functional(STORY), analyze_technical(STORY, [])
        ),
        estimate,
        None,
    )
    assert "Note: history has 35 stories" in adf_to_text(to_adf(report))
