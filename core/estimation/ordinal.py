"""Conditional quantiles on a team's point scale: one logistic model per cumulative threshold.

For each scale value ``t`` a binary model estimates ``P(points <= t | text)``; the estimate for a
quantile ``q`` is the smallest scale value whose cumulative probability reaches ``q``. Blending the
cumulative curve with the history's own curve shrinks weak evidence towards the (recent) median.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from core.estimation.workers import FitTask, Fitter

# Thresholds the history itself puts far in a tail barely move the median or the quartiles; they
# keep the history's own probability, which saves most of the fitting time.
TAIL = 0.05
MIN_CLASS = 3


def recency_weights(n: int, half_life: float | None) -> np.ndarray:
    """Weight of each of ``n`` stories (oldest first); ``half_life`` is a share of the history."""
    if half_life is None or n == 0:
        return np.ones(n)
    age = (n - 1 - np.arange(n)) / n
    return np.asarray(0.5 ** (age / half_life), dtype=np.float64)


def prior_cdf(points: np.ndarray, scale: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted share of ``points`` at or below each scale value."""
    return np.array([np.average(points <= t, weights=weights) for t in scale])


def quantile(cdf: np.ndarray, scale: np.ndarray, q: float) -> np.ndarray:
    """Smallest scale value whose cumulative probability reaches ``q``, per column of ``cdf``."""
    monotone = np.maximum.accumulate(cdf, axis=0)
    monotone[-1] = 1.0
    return np.asarray(scale[(monotone >= q - 1e-9).argmax(axis=0)])


@dataclass
class OrdinalModel:
    """Per-threshold logistic models; thresholds without one keep the prior."""

    scale: np.ndarray  # (k,) team scale, ascending
    prior: np.ndarray  # (k,) the history's cumulative shares (recency-weighted)
    thresholds: np.ndarray  # (m,) indices into scale that have a model
    coef: np.ndarray  # (m, d) float32
    intercept: np.ndarray  # (m,)

    def cdf(self, features: sparse.csr_matrix) -> np.ndarray:
        """Cumulative probabilities, shape (k, n)."""
        out = np.tile(self.prior[:, None], (1, features.shape[0]))
        if len(self.thresholds):
            logits = features @ self.coef.T + self.intercept
            out[self.thresholds] = (1.0 / (1.0 + np.exp(-np.asarray(logits, np.float64)))).T
        return out


def fit_ordinal(
    features: sparse.csr_matrix,
    points: np.ndarray,
    scale: np.ndarray,
    members: Sequence[tuple[float, float | None]],
    fitter: Fitter | None = None,
) -> OrdinalModel:
    """Fit, per informative threshold, one logistic model per ``(C, half_life)`` member.

    The members' logits are averaged, so the ensemble is again one linear model per threshold:
    averaging over regularisation strengths and recency weightings steadies the estimate without
    having to pick one of them on a small validation part.
    """
    prior = prior_cdf(points, scale, np.ones(len(points)))
    chosen = [
        j
        for j, t in enumerate(scale[:-1])
        if TAIL <= prior[j] <= 1 - TAIL
        and MIN_CLASS <= int((points <= t).sum()) <= len(points) - MIN_CLASS
    ]
    # One float64 copy up front instead of one per fit. ``fitter`` may spread the fits over
    # processes (never threads: liblinear's random generator is process-global).
    features = features.astype(np.float64)
    tasks = [
        FitTask((points <= scale[j]).astype(np.int8), weights, c)
        for c, half_life in members
        for weights in [recency_weights(len(points), half_life)]
        for j in chosen
    ]
    fitted = (fitter or Fitter()).map(features, tasks)
    dim, m = features.shape[1], len(chosen)
    coef = np.zeros((m, dim), dtype=np.float32)
    intercept = np.zeros(m, dtype=np.float64)
    for number, (row, bias) in enumerate(fitted):
        coef[number % m] += row / len(members)
        intercept[number % m] += bias / len(members)
    return OrdinalModel(scale, prior, np.array(chosen, dtype=np.int64), coef, intercept)
