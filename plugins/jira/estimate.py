"""From a site's history to the comment's estimate (pure: the model is fitted by a job)."""

from __future__ import annotations

from collections.abc import Sequence

from core.estimation import Estimate, StoryPointModel
from core.estimation import Story as HistoryStory
from plugins.jira.similarity import PastStory
from plugins.jira.story import Story


def to_history(past: Sequence[PastStory]) -> list[HistoryStory]:
    """The estimator's history: past stories that have points, in the given (creation) order."""
    return [
        HistoryStory(key=p.key, title=p.summary, description=p.description, points=p.points)
        for p in past
        if p.points is not None
    ]


def too_little(history_size: int, min_history: int) -> str | None:
    """Why no number is given, or ``None`` when the history is big enough."""
    if history_size >= min_history:
        return None
    stories = "story" if history_size == 1 else "stories"
    return (
        f"too little history: {history_size} resolved {stories} with story points on this "
        f"site; the agent gives a number from {min_history} on"
    )


def estimate_story(
    story: Story, model: StoryPointModel | None, history_size: int, min_history: int
) -> tuple[Estimate | None, str | None]:
    """The estimate of ``story``, or ``None`` and the reason the comment gives instead."""
    why = too_little(history_size, min_history)
    if why is not None:
        return None, why
    if model is None:
        return None, "the team's model is still being fitted; mention me again in a few minutes"
    text = "\n".join([story.description, *story.acceptance_criteria]).strip()
    return model.estimate(story.summary, text), None
