"""Story-point estimation from a team's own resolved history (no Ray, no Jira in here).

``fit_model(stories)`` picks a setting on the newest part of the history and returns a
``StoryPointModel``; ``model.estimate(title, description)`` gives points on the team's scale, a
25-75% range and the three most similar past stories. ``codec.dumps``/``loads`` store it safely.
"""

from core.estimation.codec import ModelFormatInvalid, dumps, loads
from core.estimation.fitting import FitConfig, fit_model
from core.estimation.history import HistoryInvalid, Story, chronological_split, read_history_csv
from core.estimation.model import Estimate, SimilarStory, StoryPointModel

__all__ = [
    "Estimate",
    "FitConfig",
    "HistoryInvalid",
    "ModelFormatInvalid",
    "SimilarStory",
    "Story",
    "StoryPointModel",
    "chronological_split",
    "dumps",
    "fit_model",
    "loads",
    "read_history_csv",
]
