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

from dataclasses import dataclass

import numpy as np
from scipy import sparse

MAX_CODE = 0x110000
_INT64_LIMIT = 2**63
# Stories are counted in chunks of about this many characters: the work arrays take roughly 50
# bytes per character, so chunks bound the peak memory whatever the history's length, and small
# sorts are faster than one big one. The n-grams are generated twice: once for the vocabulary,
# once for the counts of the kept terms. Measured on the development set (10.5k stories, 6 M
# characters) and on it five times over: 500k-character chunks took 2.1 s and 11.4 s with peaks
# of 300 and 670 MiB; one chunk for everything 2.4 s and 12.3 s, 520 and 1,660 MiB.
CHUNK_CHARS = 500_000


@dataclass(frozen=True)
class _Alphabet:
    """Characters of the whole history and their ranks (1, 2, …; 0 is no character)."""

    chars: np.ndarray
    rank: np.ndarray  # code point -> rank
    base: int


def count_char_wb(
    docs: list[str],
    ngram_range: tuple[int, int],
    min_df: int,
    max_features: int | None,
    chunk_chars: int = CHUNK_CHARS,
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
    chunks = _chunks(texts, chunk_chars)
    present = np.zeros(MAX_CODE, dtype=bool)
    for start, end in chunks:
        present |= np.bincount(_codes(texts[start:end]), minlength=MAX_CODE) > 0
    chars = np.flatnonzero(present)
    alphabet = _Alphabet(chars, np.zeros(MAX_CODE, dtype=np.int64), len(chars) + 1)
    alphabet.rank[chars] = np.arange(1, alphabet.base)
    if alphabet.base**high * max((end - start for start, end in chunks), default=1) >= _INT64_LIMIT:
        return None

    def chunk_pairs(start: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _pairs(texts[start:end], alphabet, ngram_range)

    # Pass 1: every term's story count and total count, chunk by chunk (stories never straddle).
    terms = np.zeros(0, dtype=np.int64)
    frequencies = totals = np.zeros(0, dtype=np.int64)
    for start, end in chunks:
        keys, rows, counts = chunk_pairs(start, end)
        first = np.flatnonzero(_starts_of_runs(keys))
        terms, frequencies, totals = _merge(
            (terms, frequencies, totals),
            (keys[first], np.diff(first, append=len(keys)), _sums(counts, first)),
        )
    kept = _limit(frequencies, totals.astype(np.float32), min_df, max_features)
    if not len(kept):
        raise ValueError("After pruning, no terms remain.")
    kept_keys = terms[kept]
    # Pass 2: the kept terms' counts per story. With one chunk, pass 1's pairs are still at hand;
    # with more, each chunk is generated again rather than all of them kept meanwhile.
    last = (keys, rows, counts) if len(chunks) == 1 else None
    del terms, frequencies, totals, keys, rows, counts, first
    blocks = [
        _block(last if last is not None else chunk_pairs(start, end), kept_keys, end - start)
        for start, end in chunks
    ]
    matrix = sparse.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]
    matrix.sort_indices()
    return _decode(kept_keys, alphabet, high), matrix


def _chunks(texts: list[str], chunk_chars: int) -> list[tuple[int, int]]:
    """Consecutive story ranges of at most ``chunk_chars`` characters (or one story)."""
    chunks, start, size = [], 0, 0
    for i, text in enumerate(texts):
        if size and size + len(text) > chunk_chars:
            chunks.append((start, i))
            start, size = i, 0
        size += len(text)
    chunks.append((start, len(texts)))
    return chunks


def _codes(texts: list[str]) -> np.ndarray:
    return np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _sums(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Sum of each run of ``values`` starting at ``first``."""
    return np.add.reduceat(values, first) if len(first) else values[:0].astype(np.int64)


def _pairs(
    texts: list[str], alphabet: _Alphabet, ngram_range: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(term key, story, count) of every term in every story of ``texts``, term-major."""
    low, high = ngram_range
    base, n_docs = alphabet.base, max(len(texts), 1)
    codes = _codes(texts)
    digits = alphabet.rank[codes]
    # Left-aligned key of the longest n-gram starting at each position (0 digits past the end).
    longest = np.zeros(len(digits), dtype=np.int64)
    for i in range(high):
        longest[: max(len(digits) - i, 0)] += digits[i:] * base ** (high - 1 - i)
    del digits
    # Windows with no space strictly inside, per length, as positions; counted first so that the
    # occurrences fill one preallocated array (this step bounds the peak memory).
    spaces = np.concatenate([[0], np.cumsum(codes == ord(" "), dtype=np.int32)])
    valid = []
    for n in range(low, high + 1):
        windows = max(len(codes) - n + 1, 0)
        valid.append(spaces[n - 1 : n - 1 + windows] == spaces[1 : 1 + windows])
    del spaces
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    doc_of = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
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
    del longest, doc_of, valid
    occurrences.sort()
    first = np.flatnonzero(_starts_of_runs(occurrences))
    counts = np.diff(first, append=len(occurrences)).astype(np.int32)
    keys = occurrences[first]  # one per (term, story) pair, still term-major
    del occurrences, first
    rows = (keys % n_docs).astype(np.int32)
    keys //= n_docs
    return keys, rows, counts


def _merge(
    left: tuple[np.ndarray, np.ndarray, np.ndarray],
    right: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of two sorted (term, story count, total count) tables, adding up shared terms."""
    if not len(left[0]):
        return right
    keys = np.concatenate([left[0], right[0]])
    order = np.argsort(keys, kind="stable")  # two sorted runs: a linear merge
    keys = keys[order]
    first = np.flatnonzero(_starts_of_runs(keys))
    frequencies = _sums(np.concatenate([left[1], right[1]])[order], first)
    totals = _sums(np.concatenate([left[2], right[2]])[order], first)
    return keys[first], frequencies, totals


def _block(
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray], kept: np.ndarray, n_docs: int
) -> sparse.csr_matrix:
    """Counts of the ``kept`` terms (sorted keys) in one chunk's stories."""
    keys, rows, counts = pairs
    columns = np.searchsorted(kept, keys)
    found = columns < len(kept)
    found[found] = kept[columns[found]] == keys[found]
    columns = columns[found]
    indptr = np.searchsorted(columns, np.arange(len(kept) + 1))
    block = sparse.csc_matrix(
        (counts[found].astype(np.float32), rows[found], indptr), shape=(n_docs, len(kept))
    )
    return block.tocsr()


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


def _decode(keys: np.ndarray, alphabet: _Alphabet, high: int) -> list[str]:
    """The n-gram strings of ``keys``."""
    base = alphabet.base
    powers = base ** np.arange(high - 1, -1, -1, dtype=np.int64)
    digits = (keys[:, None] // powers[None, :]) % base
    chars = [""] + [chr(int(c)) for c in alphabet.chars]
    return ["".join(chars[d] for d in row) for row in digits.tolist()]
