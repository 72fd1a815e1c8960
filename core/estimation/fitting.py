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
from core.estimation.workers import Fitter, available_cpus

Progress = Callable[[str], None]
MEDIAN = Candidate(text=False, half_life=None, shrink=1.0)


@dataclass(frozen=True)
class FitConfig:
    """Search space and limits of fitting; the defaults were chosen on validation splits."""

    # Ensemble members: every (C, half-life) pair; half-lives are shares of the history.
    c_values: tuple[float, ...] = (1.0, 3.0)
    half_lives: tuple[float | None, ...] = (None, 0.5)
    shrinks: tuple[float, ...] = (0.0, 0.25, 0.5)
    # Per-team choice on a small validation window is mostly noise: the default shrink is kept
    # unless another one beats it there by more than ``switch_margin`` (relative MAE).
    default_shrink: float = 0.25
    switch_margin: float = 0.02
    # The median replaces the text model only when the text model is clearly worse on validation
    # (relative MAE); small losses there did not predict losses on later stories.
    median_margin: float = 0.2
    min_history: int = 40  # below this there is too little to validate a text model on
    min_validation: int = 10
    # Selection trains on at most this many stories before the validation part (the newest ones:
    # velocity drifts); it bounds fitting time on long histories. The final refit uses all.
    selection_window: int = 4000
    validation_share: float = 0.25  # of the history, newest stories, when no split is given
    explain_terms: int = 48  # word weights kept per past story for explanations
    # Processes the logistic fits use (this one and helpers; results are identical for any
    # number); None: up to 2 of the CPUs this process may use. Only histories of at least
    # ``parallel_min_stories`` start a helper: below that, starting one costs more than it saves.
    workers: int | None = None
    parallel_min_stories: int = 1500


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
    # float16 precision is what gets stored; using it here too keeps restored models identical.
    data = np.concatenate([d for _, d in rows] or [np.zeros(0)]).astype(np.float16)
    return sparse.csr_matrix((data.astype(np.float32), indices, indptr), shape=matrix.shape)


@dataclass(frozen=True)
class _Run:
    """What every step of one fit shares: its settings, its fitter and where progress goes."""

    config: FitConfig
    fitter: Fitter
    say: Progress


def _candidates_mae(
    matrix: sparse.csr_matrix, points: np.ndarray, start: int, run: _Run
) -> dict[Candidate, float]:
    """Validation MAE of every candidate: fit on rows before ``start``, score the rest."""
    config = run.config
    first = max(0, start - config.selection_window)
    train, truth = points[first:start], points[start:]
    scale = team_scale(train)
    scores: dict[Candidate, float] = {}
    predicted = quantile(prior_cdf(train, scale, np.ones(len(train)))[:, None], scale, 0.5)[0]
    scores[MEDIAN] = float(np.abs(truth - predicted).mean())
    if matrix.shape[1] == 0:
        return scores
    x_train, x_val = matrix[first:start], matrix[start:]
    known = np.diff(x_val.indptr) > 0
    ordinal = fit_ordinal(x_train, train, scale, _members(config), run.fitter)
    cdf, prior = ordinal.cdf(x_val), ordinal.prior[:, None]
    for shrink in config.shrinks:
        blended = np.where(known[None, :], (1 - shrink) * cdf + shrink * prior, prior)
        mae = float(np.abs(truth - quantile(blended, scale, 0.5)).mean())
        scores[Candidate(True, None, shrink)] = mae
    run.say(f"validated the text ensemble on {len(train)}+{len(truth)} stories")
    return scores


def _members(config: FitConfig) -> list[tuple[float, float | None]]:
    return [(c, half_life) for c in config.c_values for half_life in config.half_lives]


def _degenerate(points: np.ndarray, start: int, config: FitConfig) -> str | None:
    """Why no text model can be fitted or validated on this history, if so."""
    if len(points) < config.min_history:
        return f"history has {len(points)} stories; a text model needs {config.min_history}"
    if len(np.unique(points)) == 1:
        return f"every story in the history has {points[0]:g} points"
    if start < config.min_history // 2 or len(points) - start < config.min_validation:
        return "too few stories on each side of the validation split"
    return None


def _choose(scores: dict[Candidate, float], config: FitConfig) -> tuple[Candidate, str | None]:
    """The text setting to use (or the median) given validation MAEs, and why if the median."""
    text = {cand: mae for cand, mae in scores.items() if cand.text}
    if not text:
        return MEDIAN, "the history's text has no usable word or character n-gram"
    default = Candidate(True, None, config.default_shrink)
    best = min(text, key=lambda cand: text[cand])
    chosen = default
    if default not in text or text[best] < (1 - config.switch_margin) * text[default]:
        chosen = best
    if text[chosen] > (1 + config.median_margin) * scores[MEDIAN]:
        margin = f"{config.median_margin:.0%}"
        return MEDIAN, f"the text model did worse than the median on validation by over {margin}"
    return chosen, None


def _select(
    matrix: sparse.csr_matrix, points: np.ndarray, start: int, run: _Run
) -> tuple[Candidate, dict[str, float | int], str | None]:
    """The candidate chosen on validation, its scores, and why it is the median if it is."""
    config = run.config
    reason = _degenerate(points, start, config)
    if reason is not None:
        return MEDIAN, {}, reason
    scores = _candidates_mae(matrix, points, start, run)
    chosen, reason = _choose(scores, config)
    validation: dict[str, float | int] = {
        "mae": scores[chosen],
        "median_mae": scores[MEDIAN],
        "n": len(points) - start,
    }
    return chosen, validation, reason


def fit_model(
    stories: Sequence[Story],
    config: FitConfig | None = None,
    validation_start: int | None = None,
    progress: Progress | None = None,
) -> StoryPointModel:
    """Fit on ``stories`` (creation order); ``validation_start`` marks where validation begins.

    Vocabulary and idf come from all stories' text (no labels), so selection and the final fit
    share one text pass; the candidate is chosen on the validation part, then refitted on all.
    """
    config = config or FitConfig()
    say = progress or (lambda _msg: None)
    if not stories:
        raise ValueError("cannot fit a story-point model on an empty history")
    started = time.perf_counter()
    points = np.array([s.points for s in stories], dtype=np.float64)
    start = validation_start
    if start is None:
        start = round(len(stories) * (1 - config.validation_share))
    workers = 1
    if len(stories) >= config.parallel_min_stories:
        workers = config.workers if config.workers is not None else min(2, available_cpus())
    # The helpers start now: their start-up overlaps reading the text.
    with Fitter(workers) as fitter:
        features, matrix = TextFeatures.fit_transform(
            [story_text(s.title, s.description) for s in stories]
        )
        say(f"read the text of {len(stories)} stories ({features.size} features)")
        run = _Run(config, fitter, say)
        candidate, validation, reason = _select(matrix, points, start, run)
        scale = team_scale(points)
        ordinal = None
        if candidate.text:
            ordinal = fit_ordinal(matrix, points, scale, _members(config), fitter)
    history = HistoryIndex(
        keys=[s.key for s in stories],
        titles=[s.title for s in stories],
        points=points,
        vectors=_truncate_rows(matrix[:, : features.word_size], config.explain_terms),
    )
    prior = prior_cdf(points, scale, recency_weights(len(points), candidate.half_life))
    model = StoryPointModel(candidate, scale, prior, ordinal, features, history, reason)
    model.validation = validation
    took = time.perf_counter() - started
    say(f"fitted {candidate.describe()} on {len(stories)} stories in {took:.1f} s")
    return model
