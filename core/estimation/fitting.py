"""Fit a team's model: pick a setting on a chronological validation part, refit on all history."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from core.estimation.history import Story
from core.estimation.model import Candidate, HistoryIndex, StoryPointModel
from core.estimation.ordinal import fit_ordinal, prior_cdf, quantile, recency_weights
from core.estimation.text import TextFeatures, story_text

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FitConfig:
    """Search space and limits of fitting; the defaults were chosen on validation splits."""

    c_values: tuple[float, ...] = (0.3, 1.0, 3.0)
    half_lives: tuple[float | None, ...] = (None, 0.5)
    shrinks: tuple[float, ...] = (0.0, 0.25, 0.5)
    min_history: int = 40  # below this there is too little to validate a text model on
    min_validation: int = 10
    validation_share: float = 0.25  # of the history, newest stories, when no split is given
    explain_terms: int = 48  # word weights kept per past story for explanations


def team_scale(points: np.ndarray) -> np.ndarray:
    """Values the team uses: those seen at least twice (all of them in a very short history)."""
    values, counts = np.unique(points, return_counts=True)
    common = values[counts >= 2]
    return common if len(common) else values


def _truncate_rows(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Keep each row's ``keep`` largest weights and renormalise: bounds the stored model size."""
    rows = []
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        data, cols = matrix.data[start:end], matrix.indices[start:end]
        top = np.argsort(-data, kind="stable")[:keep]
        norm = float(np.linalg.norm(data[top])) or 1.0
        rows.append((cols[top], data[top] / norm))
    indptr = np.concatenate([[0], np.cumsum([len(c) for c, _ in rows])]).astype(np.int32)
    indices = np.concatenate([c for c, _ in rows] or [np.zeros(0)]).astype(np.int32)
    data = np.concatenate([d for _, d in rows] or [np.zeros(0)]).astype(np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=matrix.shape)


def _candidates_mae(
    stories: Sequence[Story], start: int, config: FitConfig, progress: Progress
) -> dict[Candidate, float]:
    """Validation MAE of every candidate: fit on ``stories[:start]``, score on the rest."""
    train, val = stories[:start], stories[start:]
    points = np.array([s.points for s in train])
    truth = np.array([s.points for s in val])
    scale = team_scale(points)
    scores: dict[Candidate, float] = {}
    for half_life in config.half_lives:
        prior = prior_cdf(points, scale, recency_weights(len(points), half_life))
        scores[Candidate(None, half_life, 1.0)] = float(
            np.abs(truth - quantile(prior[:, None], scale, 0.5)[0]).mean()
        )
    features, x_train = TextFeatures.fit_transform(
        [story_text(s.title, s.description) for s in train]
    )
    if features.size == 0:
        return scores
    x_val = features.transform([story_text(s.title, s.description) for s in val])
    known = np.diff(x_val.indptr) > 0
    for c in config.c_values:
        for half_life in config.half_lives:
            ordinal = fit_ordinal(x_train, points, scale, c, half_life)
            cdf, prior = ordinal.cdf(x_val), ordinal.prior[:, None]
            for shrink in config.shrinks:
                blended = np.where(known[None, :], (1 - shrink) * cdf + shrink * prior, prior)
                mae = float(np.abs(truth - quantile(blended, scale, 0.5)).mean())
                scores[Candidate(c, half_life, shrink)] = mae
            progress(f"validated C={c:g} half-life={half_life} on {len(train)}+{len(val)} stories")
    return scores


def _degenerate(points: np.ndarray, config: FitConfig) -> str | None:
    if len(points) < config.min_history:
        return (
            f"history has {len(points)} stories; a text model needs at least {config.min_history}"
        )
    if len(np.unique(points)) == 1:
        return f"every story in the history has {points[0]:g} points"
    return None


def fit_model(
    stories: Sequence[Story],
    config: FitConfig | None = None,
    validation_start: int | None = None,
    progress: Progress | None = None,
) -> StoryPointModel:
    """Fit on ``stories`` (creation order); ``validation_start`` marks where validation begins."""
    config = config or FitConfig()
    say = progress or (lambda _msg: None)
    if not stories:
        raise ValueError("cannot fit a story-point model on an empty history")
    started = time.perf_counter()
    points = np.array([s.points for s in stories], dtype=np.float64)
    reason = _degenerate(points, config)
    start = (
        validation_start
        if validation_start is not None
        else round(len(stories) * (1 - config.validation_share))
    )
    candidate = Candidate(None, None, 1.0)
    validation: dict[str, float] = {}
    if reason is None and (
        start < config.min_history // 2 or len(stories) - start < config.min_validation
    ):
        reason = "too few stories on each side of the validation split"
    if reason is None:
        scores = _candidates_mae(stories, start, config, say)
        # The plain median comes first and wins ties, so the model never trails it on validation.
        candidate = min(scores, key=lambda cand: scores[cand])
        validation = {
            "mae": scores[candidate],
            "median_mae": scores[Candidate(None, None, 1.0)],
            "n": float(len(stories) - start),
        }
        if candidate.c is None:
            reason = "no text model beat the median on validation"
    model = _refit(stories, points, candidate, config, reason)
    model.validation = validation
    took = time.perf_counter() - started
    say(f"fitted {candidate.describe()} on {len(stories)} stories in {took:.1f} s")
    return model


def _refit(
    stories: Sequence[Story],
    points: np.ndarray,
    candidate: Candidate,
    config: FitConfig,
    reason: str | None,
) -> StoryPointModel:
    docs = [story_text(s.title, s.description) for s in stories]
    scale = team_scale(points)
    features = TextFeatures.fit(docs)
    ordinal = None
    if candidate.c is not None and features.size:
        ordinal = fit_ordinal(
            features.transform(docs), points, scale, candidate.c, candidate.half_life
        )
    history = HistoryIndex(
        keys=[s.key for s in stories],
        titles=[s.title for s in stories],
        points=points,
        vectors=_truncate_rows(features.words(docs), config.explain_terms),
    )
    prior = prior_cdf(points, scale, recency_weights(len(points), candidate.half_life))
    return StoryPointModel(candidate, scale, prior, ordinal, features, history, reason)
