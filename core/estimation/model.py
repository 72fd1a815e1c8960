"""A fitted story-point model of one team and the estimate it gives for a new story."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from core.estimation.ordinal import OrdinalModel, quantile
from core.estimation.text import TextFeatures, story_text

RANGE_QUANTILES = (0.25, 0.75)
NEIGHBOURS = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    """One setting chosen among on validation: the text ensemble or a (recent) median."""

    text: bool
    half_life: float | None  # recency weighting of a median candidate
    shrink: float  # weight of the history's own distribution in the blend (1 for a median)

    def describe(self) -> str:
        """Short human-readable name, e.g. ``text(shrink=0.25)`` or ``median(all history)``."""
        if self.text:
            return f"text(shrink={self.shrink:g})"
        recency = "all history" if self.half_life is None else f"half-life={self.half_life:g}"
        return f"median({recency})"


@dataclass(frozen=True, slots=True)
class SimilarStory:
    """A past story shown to explain an estimate."""

    key: str
    title: str
    points: float
    similarity: float


@dataclass(frozen=True)
class Estimate:
    """Points snapped to the team's scale, a 25-75% range and the most similar past stories."""

    points: float
    low: float
    high: float
    basis: str  # "text-model" or "median"
    fallback_reason: str | None
    similar: list[SimilarStory] = field(default_factory=list)
    model: str = ""
    history_size: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass
class HistoryIndex:
    """What explanations need from the history: keys, titles, points, truncated word vectors."""

    keys: list[str]
    titles: list[str]
    points: np.ndarray
    vectors: sparse.csr_matrix  # unit rows, only the strongest terms of each story kept


@dataclass
class StoryPointModel:
    """Fitted estimator of one team; build it with ``fit_model`` or ``codec.loads``."""

    candidate: Candidate
    scale: np.ndarray
    prior: np.ndarray  # cumulative shares of the history on ``scale``
    ordinal: OrdinalModel | None
    features: TextFeatures
    history: HistoryIndex
    fallback_reason: str | None
    validation: dict[str, float | int] = field(default_factory=dict)

    def snap(self, value: float) -> float:
        """Nearest value of the team's scale (the lower one on a tie)."""
        return float(self.scale[int(np.argmin(np.abs(self.scale - value)))])

    def _cdf(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Cumulative curves (k, n) and whether each story had any known text."""
        prior = np.tile(self.prior[:, None], (1, len(docs)))
        if self.ordinal is None:
            return prior, np.zeros(len(docs), dtype=bool)
        matrix = self.features.transform(docs)
        known = np.diff(matrix.indptr) > 0
        blended = (1 - self.candidate.shrink) * self.ordinal.cdf(
            matrix
        ) + self.candidate.shrink * prior
        return np.where(known[None, :], blended, prior), known

    def predict(self, docs: list[str]) -> np.ndarray:
        """Snapped point estimates of many story documents (see ``story_text``)."""
        cdf, _ = self._cdf(docs)
        return quantile(cdf, self.scale, 0.5)

    def similar(self, doc: str, count: int = NEIGHBOURS) -> list[SimilarStory]:
        """The ``count`` past stories whose words are closest to ``doc`` (newest first on ties)."""
        if self.history.vectors.shape[1] == 0 or not self.history.keys:
            return []
        query = self.features.words([doc])
        scores = np.asarray((self.history.vectors @ query.T).todense()).ravel()
        order = np.lexsort((-np.arange(len(scores)), -scores))[:count]
        return [
            SimilarStory(
                self.history.keys[i],
                self.history.titles[i],
                float(self.history.points[i]),
                round(float(scores[i]), 3),
            )
            for i in order
            if scores[i] > 0
        ]

    def estimate(self, title: str, description: str = "") -> Estimate:
        """Estimate one story and explain it with its most similar past stories."""
        doc = story_text(title, description)
        cdf, known = self._cdf([doc])
        low, mid, high = (
            float(quantile(cdf, self.scale, q)[0])
            for q in (RANGE_QUANTILES[0], 0.5, RANGE_QUANTILES[1])
        )
        reason = self.fallback_reason
        if reason is None and not known[0]:
            reason = "no word or character n-gram of this story occurs in the history"
        return Estimate(
            points=mid,
            low=low,
            high=high,
            basis="median" if reason else "text-model",
            fallback_reason=reason,
            similar=self.similar(doc),
            model=self.candidate.describe(),
            history_size=len(self.history.keys),
        )
