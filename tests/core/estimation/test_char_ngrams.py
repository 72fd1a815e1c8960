"""The numpy character n-gram counter gives scikit-learn's own vocabulary and counts."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from core.estimation.char_ngrams import count_char_wb
from core.estimation.text import CHAR_OPTIONS, _fit

WORDS = [
    "a", "I", "ab", "Über", "naïve", "日本語", "x\u0301y", "C++", "foo.bar()", "NullPointer",
    "café", "İstanbul", "ǅemal", "😀ok", "a-b", "KEY-123", "https://x.io/a?b=1", "ß", "ﬁle",
]  # fmt: skip
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\x1c", " \t \n "]


def _corpus(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        if i % 17 == 0:
            docs.append(rng.choice(["", "   ", "\n\t"]))  # nothing but whitespace
            continue
        parts = []
        for _ in range(rng.randrange(1, 30)):
            parts += [rng.choice(WORDS) if rng.random() < 0.7 else _word(rng), rng.choice(SPACES)]
        docs.append(rng.choice(["", " ", "\n"]) + "".join(parts))
    return docs


def _word(rng: random.Random) -> str:
    return "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyzABC0123456789_é") for _ in range(rng.randrange(1, 12))
    )


def _sklearn(
    docs: list[str], min_df: int, max_features: int | None
) -> tuple[list[str], np.ndarray]:
    vectorizer = CountVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=min_df, max_features=max_features,
        dtype=np.float32,
    )  # fmt: skip
    counts = vectorizer.fit_transform(docs)
    vocabulary = vectorizer.vocabulary_
    return sorted(vocabulary, key=vocabulary.__getitem__), counts.toarray()


@pytest.mark.parametrize(
    ("seed", "n", "min_df", "max_features"),
    [(1, 60, 1, None), (2, 200, 2, None), (3, 300, 2, 500), (4, 300, 1, 40), (5, 1, 1, None)],
)
@pytest.mark.parametrize("chunk_chars", [1_000_000, 700, 1])  # one chunk, several, one per story
def test_same_vocabulary_and_counts_as_scikit_learn(
    seed: int, n: int, min_df: int, max_features: int | None, chunk_chars: int
) -> None:
    docs = _corpus(seed, n) if n > 1 else ["Only one story, with ünïcode and a b c."]
    counted = count_char_wb(docs, (3, 5), min_df, max_features, chunk_chars=chunk_chars)
    assert counted is not None
    terms, counts = counted
    expected_terms, expected_counts = _sklearn(docs, min_df, max_features)
    assert terms == expected_terms
    assert counts.dtype == np.float32 and counts.has_sorted_indices
    assert np.array_equal(counts.toarray(), expected_counts)


def test_ties_at_the_max_features_cut_are_broken_as_scikit_learn_does() -> None:
    # Most n-grams occur exactly twice (once per copy of the word): the cut falls among ties.
    docs = [f"w{i:03d}x w{i:03d}x" for i in range(50)]
    counted = count_char_wb(docs, (3, 5), 1, 37)
    assert counted is not None
    assert counted[0] == _sklearn(docs, 1, 37)[0]


def test_nothing_left_raises_like_scikit_learn() -> None:
    with pytest.raises(ValueError):
        count_char_wb(["   ", "\n"], (3, 5), 1, None)
    with pytest.raises(ValueError):
        count_char_wb(["abc", "xyz"], (3, 5), 2, None)  # every n-gram is in one story only


def test_declines_what_64_bit_keys_cannot_hold_and_other_ranges() -> None:
    huge_alphabet = [
        "".join(chr(0x4E00 + i) for i in range(start, start + 4000)) for start in (0, 4000)
    ]
    assert count_char_wb(huge_alphabet, (3, 5), 1, None) is None
    assert count_char_wb(["abcdef"], (2, 4), 1, None) is None


def test_tfidf_features_equal_scikit_learns_either_way() -> None:
    docs = _corpus(7, 400)
    vectorizer, matrix = _fit(CHAR_OPTIONS, 300, docs)  # the fast path
    reference = TfidfVectorizer(max_features=300, min_df=2, **CHAR_OPTIONS)
    expected = reference.fit_transform(docs)
    assert vectorizer is not None and matrix is not None
    assert vectorizer.vocabulary_ == reference.vocabulary_
    assert np.array_equal(vectorizer.idf_, reference.idf_)
    assert np.array_equal(matrix.toarray(), expected.toarray())
    # Later stories go through scikit-learn's own analyser with that vocabulary: same numbers.
    assert np.array_equal(vectorizer.transform(docs[:40]).toarray(), expected[:40].toarray())
    # A history the fast path declines is fitted by scikit-learn itself.
    wide = [
        chr(0x4E00 + i) * 3 + " " + "".join(chr(0x4E00 + j) for j in range(i, i + 9))
        for i in range(0, 8000, 3)
    ]
    declined, wide_matrix = _fit(CHAR_OPTIONS, 300, wide)
    assert declined is not None and wide_matrix is not None
    assert (
        declined.vocabulary_
        == TfidfVectorizer(max_features=300, min_df=2, **CHAR_OPTIONS).fit(wide).vocabulary_
    )
