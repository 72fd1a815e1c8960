"""Keyword TF-IDF similarity between a story and a team's past stories (pure Python, no I/O).

Small on purpose: the history is a few thousand stories at most per call, and the estimator in
``core.estimation`` has its own, stronger text model for points. This one answers "which past
issues look like this one" for components, risks and the ``similar`` command.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

_TOKEN = re.compile(r"[a-z][a-z0-9]+")
STOP_WORDS = frozenset(
    """a an and are as at be by can for from has have i if in into is it its of on or our so
    that the their then there these this to was we were when which will with without you your
    as want need should would could able user users story page add new make use get set""".split()
)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stop words, plural ``s`` folded."""
    out = []
    for word in _TOKEN.findall(text.lower()):
        if word in STOP_WORDS:
            continue
        out.append(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return out


class PastStory(BaseModel):
    """A resolved issue of the same site (from the history sync)."""

    model_config = ConfigDict(frozen=True)

    key: str
    summary: str
    description: str = ""
    components: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    issue_type: str = ""
    points: float | None = None


class Match(BaseModel):
    """A past story and how similar it is (cosine, 0..1)."""

    model_config = ConfigDict(frozen=True)

    story: PastStory
    score: float


def _vector(words: list[str], idf: dict[str, float]) -> dict[str, float]:
    counts = Counter(w for w in words if w in idf)
    weights = {w: (1 + math.log(n)) * idf[w] for w, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
    return {w: v / norm for w, v in weights.items()}


def _document(story: PastStory) -> list[str]:
    # The summary says what the story is about; count it twice against long descriptions.
    title = tokens(story.summary)
    return title + title + tokens(story.description[:2000]) + tokens(" ".join(story.components))


def most_similar(
    text: str, history: Sequence[PastStory], *, limit: int = 3, min_score: float = 0.05
) -> list[Match]:
    """The ``limit`` past stories closest to ``text``, best first (ties: newer key order kept)."""
    documents = [_document(s) for s in history]
    frequency: Counter[str] = Counter(w for words in documents for w in set(words))
    total = len(documents)
    idf = {w: math.log((1 + total) / (1 + n)) + 1 for w, n in frequency.items()}
    query = _vector(tokens(text), idf)
    if not query:
        return []
    scored = []
    for story, words in zip(history, documents, strict=True):
        vector = _vector(words, idf)
        score = sum(weight * vector.get(w, 0.0) for w, weight in query.items())
        if score >= min_score:
            scored.append(Match(story=story, score=round(score, 3)))
    scored.sort(key=lambda m: m.score, reverse=True)
    return scored[:limit]
