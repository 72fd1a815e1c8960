"""Character n-gram counts of a whole history in numpy: scikit-learn's ``char_wb`` analyser, fast.

Fitting a ``TfidfVectorizer(analyzer="char_wb")`` spends most of its time in Python: one slice
and one dict lookup per n-gram, about 14 million of them for 10k stories. Here every n-gram is an
integer: each character of the history is replaced by its rank in the history's alphabet (1, 2,
…; 0 is "no character"), and an n-gram's key is its ranks as digits, left-aligned to the longest
n-gram length. Keys then sort exactly like the n-gram strings (a shorter string is followed by
0 digits, which sort before every character), so one numpy sort counts everything and gives
scikit-learn's alphabetical vocabulary order. Document frequencies, ``min_df`` and
``max_features`` are applied with scikit-learn's own steps on that order, so the vocabulary and
the counts are the ones ``CountVectorizer`` computes (a test compares them).

An n-gram of ``char_wb`` lies inside one word padded with a space on each side. In the history
written as ``" " + " ".join(words) + " "`` per story, those are exactly the windows with no space
strictly inside them, when the shortest length is 3 (a padded word has at least 3 characters, so
scikit-learn's rule for words shorter than the n-gram never applies).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

MAX_CODE = 0x110000
_INT64_LIMIT = 2**63


def count_char_wb(
    docs: list[str], ngram_range: tuple[int, int], min_df: int, max_features: int | None
) -> tuple[list[str], sparse.csr_matrix] | None:
    """Vocabulary (alphabetical) and float32 count matrix of ``docs``, or None if not applicable.

    None means this path cannot represent the n-grams in 64-bit keys (a very large alphabet) or
    the shortest length is not 3; the caller then uses scikit-learn itself. An empty vocabulary
    (nothing left after ``min_df``) raises ``ValueError`` as scikit-learn does.
    """
    low, high = ngram_range
    if low != 3 or high < low:
        return None
    texts = [" " + " ".join(doc.lower().split()) + " " for doc in docs]
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    alphabet = np.flatnonzero(np.bincount(codes, minlength=MAX_CODE))
    base, n_docs = len(alphabet) + 1, max(len(docs), 1)
    if base**high * n_docs >= _INT64_LIMIT:
        return None
    rank = np.zeros(MAX_CODE, dtype=np.int64)
    rank[alphabet] = np.arange(1, base)
    digits = rank[codes]
    # Left-aligned key of the longest n-gram starting at each position (0 digits past the end).
    longest = np.zeros(len(digits), dtype=np.int64)
    for i in range(high):
        longest[: len(digits) - i] += digits[i:] * base ** (high - 1 - i)
    del digits, rank
    # Windows with no space strictly inside, per length, as positions; counted first so that the
    # occurrences fill one preallocated array (this step bounds the peak memory of fitting).
    spaces = np.concatenate([[0], np.cumsum(codes == ord(" "), dtype=np.int32)])
    valid = []
    for n in range(low, high + 1):
        windows = max(len(codes) - n + 1, 0)
        valid.append(spaces[n - 1 : n - 1 + windows] == spaces[1 : 1 + windows])
    del spaces
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int32), lengths)
    # One int64 per (n-gram, story) occurrence, term-major: sorting groups a term's stories.
    occurrences = np.empty(sum(int(v.sum()) for v in valid), dtype=np.int64)
    filled = 0
    for n, windows in zip(range(low, high + 1), valid, strict=True):
        starts = np.flatnonzero(windows)
        part = occurrences[filled : filled + len(starts)]
        np.take(longest, starts, out=part)
        unit = base ** (high - n)
        part //= unit
        part *= unit * n_docs
        part += doc_of[starts]
        filled += len(starts)
    del longest, doc_of, valid, starts
    occurrences.sort()
    first = np.flatnonzero(_starts_of_runs(occurrences))
    counts = np.diff(first, append=len(occurrences)).astype(np.int32)
    keys = occurrences[first]  # one per (term, story) pair, still term-major
    del occurrences, first
    rows = (keys % n_docs).astype(np.int32)
    keys //= n_docs
    term_first = np.flatnonzero(_starts_of_runs(keys))
    frequencies = np.diff(term_first, append=len(keys))
    totals = np.add.reduceat(counts, term_first) if len(term_first) else counts
    kept = _limit(frequencies, totals.astype(np.float32), min_df, max_features)
    if not len(kept):
        raise ValueError("After pruning, no terms remain.")
    terms = _decode(keys[term_first[kept]], alphabet, base, high)
    del keys
    chosen = np.repeat(np.isin(np.arange(len(term_first)), kept), frequencies)
    indptr = np.concatenate([[0], np.cumsum(frequencies[kept])])
    matrix = sparse.csc_matrix(
        (counts[chosen].astype(np.float32), rows[chosen], indptr), shape=(len(docs), len(kept))
    )
    return terms, matrix.tocsr()


def _starts_of_runs(values: np.ndarray) -> np.ndarray:
    """True where a sorted array's value differs from the one before (and at the start)."""
    starts = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return starts


def _limit(
    frequencies: np.ndarray, totals: np.ndarray, min_df: int, max_features: int | None
) -> np.ndarray:
    """Terms kept: scikit-learn's ``_limit_features`` on the same (alphabetical) order."""
    mask = frequencies >= min_df
    if max_features is not None and mask.sum() > max_features:
        chosen = (-totals[mask]).argsort()[:max_features]
        limited = np.zeros(len(mask), dtype=bool)
        limited[np.where(mask)[0][chosen]] = True
        mask = limited
    return np.flatnonzero(mask)


def _decode(keys: np.ndarray, alphabet: np.ndarray, base: int, high: int) -> list[str]:
    """The n-gram strings of ``keys``."""
    powers = base ** np.arange(high - 1, -1, -1, dtype=np.int64)
    digits = (keys[:, None] // powers[None, :]) % base
    chars = [""] + [chr(int(c)) for c in alphabet]
    return ["".join(chars[d] for d in row) for row in digits.tolist()]
