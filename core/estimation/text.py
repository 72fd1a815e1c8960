"""Text features of a story: word and character TF-IDF, rebuildable from plain arrays."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

from core.estimation.char_ngrams import count_char_wb

# Long descriptions are mostly logs and stack traces; their head carries the signal and the cap
# keeps fitting time linear in the number of stories.
MAX_DESCRIPTION_CHARS = 2000
WORD_OPTIONS: dict[str, Any] = {
    "sublinear_tf": True,
    "ngram_range": (1, 2),
    "stop_words": "english",
    "dtype": np.float32,
}
CHAR_OPTIONS: dict[str, Any] = {
    "sublinear_tf": True,
    "analyzer": "char_wb",
    "ngram_range": (3, 5),
    "dtype": np.float32,
}
WORD_MAX_FEATURES = 10_000
CHAR_MAX_FEATURES = 20_000
# Character n-grams help most on short texts (titles, identifiers); on long descriptions they cost
# much and add little, so they see only the head of each document.
CHAR_DOC_CHARS = 2100


def story_text(title: str, description: str) -> str:
    """The document of one story; the title is repeated because it is the densest signal."""
    return f"{title}\n{title}\n{description[:MAX_DESCRIPTION_CHARS]}"


def _fit(
    options: dict[str, Any], max_features: int, docs: list[str]
) -> tuple[TfidfVectorizer | None, sparse.csr_matrix | None]:
    min_df = 2 if len(docs) >= 50 else 1
    if options.get("analyzer") == "char_wb":
        try:
            counted = count_char_wb(docs, options["ngram_range"], min_df, max_features)
        except ValueError:  # nothing left after min_df
            return None, None
        if counted is not None:
            # The same vocabulary and counts as scikit-learn's own fit, several times faster.
            terms, counts = counted
            weighting = TfidfTransformer(sublinear_tf=options["sublinear_tf"])
            matrix = weighting.fit_transform(counts)
            return _rebuild(options, terms, weighting.idf_), matrix
    vectorizer = TfidfVectorizer(max_features=max_features, min_df=min_df, **options)
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # empty vocabulary: every text is blank or stop words only
        return None, None
    return vectorizer, matrix


def _rebuild(options: dict[str, Any], terms: list[str], idf: np.ndarray) -> TfidfVectorizer | None:
    if not terms:
        return None
    vectorizer = TfidfVectorizer(vocabulary=terms, **options)
    vectorizer.idf_ = idf
    return vectorizer


def _heads(docs: list[str]) -> list[str]:
    return [doc[:CHAR_DOC_CHARS] for doc in docs]


def _join(parts: list[sparse.csr_matrix], rows: int) -> sparse.csr_matrix:
    if not parts:
        return sparse.csr_matrix((rows, 0), dtype=np.float32)
    joined = sparse.hstack(parts, format="csr") * np.float32(1 / np.sqrt(len(parts)))
    return joined.astype(np.float32)


@dataclass
class TextFeatures:
    """Fitted word and char TF-IDF; ``transform`` gives unit-norm rows, ``words`` word-only rows."""

    word: TfidfVectorizer | None
    char: TfidfVectorizer | None

    @classmethod
    def fit_transform(cls, docs: list[str]) -> tuple[TextFeatures, sparse.csr_matrix]:
        """Fit both vocabularies on a history and return its ``transform`` (one text pass)."""
        # Character counting is numpy that releases the GIL; word analysis is Python that holds
        # it: side by side they take little more than the longer of the two.
        with ThreadPoolExecutor(1, thread_name_prefix="char-ngrams") as pool:
            chars = pool.submit(_fit, CHAR_OPTIONS, CHAR_MAX_FEATURES, _heads(docs))
            word, word_matrix = _fit(WORD_OPTIONS, WORD_MAX_FEATURES, docs)
            char, char_matrix = chars.result()
        features = cls(word, char)
        return features, _join([m for m in (word_matrix, char_matrix) if m is not None], len(docs))

    @property
    def size(self) -> int:
        """Number of columns of ``transform``."""
        return sum(len(v.vocabulary_) for v in (self.word, self.char) if v is not None)

    def transform(self, docs: list[str]) -> sparse.csr_matrix:
        """Word and char features side by side, scaled so each row has norm at most 1."""
        return _join(
            [v.transform(docs) for v in (self.word, self.char) if v is not None], len(docs)
        )

    @property
    def word_size(self) -> int:
        """Number of word columns; they come first in ``transform``."""
        return 0 if self.word is None else len(self.word.vocabulary_)

    def words(self, docs: list[str]) -> sparse.csr_matrix:
        """Word features only (what explanations compare)."""
        if self.word is None:
            return sparse.csr_matrix((len(docs), 0), dtype=np.float32)
        return self.word.transform(docs).astype(np.float32).tocsr()

    def state(self) -> tuple[dict[str, list[str]], dict[str, np.ndarray]]:
        """Vocabularies (JSON-able) and idf arrays, enough to rebuild the features."""
        terms: dict[str, list[str]] = {}
        arrays: dict[str, np.ndarray] = {}
        for name, vectorizer in (("word", self.word), ("char", self.char)):
            if vectorizer is None:
                terms[name] = []
                arrays[f"{name}_idf"] = np.zeros(0, dtype=np.float64)
                continue
            vocab = vectorizer.vocabulary_
            ordered = sorted(vocab, key=vocab.__getitem__)
            terms[name] = ordered
            arrays[f"{name}_idf"] = np.asarray(vectorizer.idf_, dtype=np.float64)
        return terms, arrays

    @classmethod
    def from_state(cls, terms: dict[str, list[str]], arrays: dict[str, np.ndarray]) -> TextFeatures:
        """Rebuild from ``state()`` output."""
        return cls(
            _rebuild(WORD_OPTIONS, terms["word"], arrays["word_idf"]),
            _rebuild(CHAR_OPTIONS, terms["char"], arrays["char_idf"]),
        )
