"""Safe bytes form of a fitted model: a versioned envelope of JSON metadata and numpy arrays.

The envelope is an ``.npz`` archive read with ``allow_pickle=False``: loading bytes from the
database can build arrays and strings, never run code.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, cast

import numpy as np
from scipy import sparse

from core.errors import IntegrationsError
from core.estimation.model import Candidate, HistoryIndex, StoryPointModel
from core.estimation.ordinal import OrdinalModel
from core.estimation.text import TextFeatures

FORMAT = "dcoder-storypoint-model"
VERSION = 1


class ModelFormatInvalid(IntegrationsError):
    """Stored model bytes are not a model this version can read."""

    code = "estimation-model-invalid"
    status = 422
    title = "Story-point model unreadable"


def _json_array(value: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode(), dtype=np.uint8)


def dumps(model: StoryPointModel) -> bytes:
    """Serialise ``model`` to compressed bytes."""
    terms, arrays = model.features.state()
    ordinal = model.ordinal
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "candidate": [model.candidate.text, model.candidate.half_life, model.candidate.shrink],
        "fallback_reason": model.fallback_reason,
        "validation": model.validation,
        "has_ordinal": ordinal is not None,
        "terms": terms,
        "keys": model.history.keys,
        "titles": model.history.titles,
    }
    vectors = model.history.vectors
    arrays |= {
        "meta": _json_array(meta),
        "scale": model.scale,
        "prior": model.prior,
        "points": model.history.points,
        "vectors_data": vectors.data.astype(np.float16),  # similarity only needs 3 digits
        "vectors_indices": vectors.indices.astype(np.int32),
        "vectors_indptr": vectors.indptr.astype(np.int64),
        "vectors_shape": np.array(vectors.shape, dtype=np.int64),
    }
    if ordinal is not None:
        arrays |= {
            "ordinal_prior": ordinal.prior,
            "ordinal_thresholds": ordinal.thresholds,
            "ordinal_coef": ordinal.coef.astype(np.float32),
            "ordinal_intercept": ordinal.intercept,
        }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **cast("dict[str, Any]", arrays))
    return buffer.getvalue()


def _read(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise ModelFormatInvalid(f"not a story-point model: {err}") from err
    if meta.get("format") != FORMAT:
        raise ModelFormatInvalid(f"not a story-point model (format {meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise ModelFormatInvalid(f"model version {meta.get('version')!r}; this reads {VERSION}")
    return meta, arrays


def loads(data: bytes) -> StoryPointModel:
    """Rebuild a model from ``dumps`` output; raises ``ModelFormatInvalid`` on anything else."""
    meta, arrays = _read(data)
    try:
        vectors = sparse.csr_matrix(
            (
                arrays["vectors_data"].astype(np.float32),
                arrays["vectors_indices"],
                arrays["vectors_indptr"],
            ),
            shape=tuple(int(n) for n in arrays["vectors_shape"]),
        )
        ordinal = None
        if meta["has_ordinal"]:
            ordinal = OrdinalModel(
                arrays["scale"],
                arrays["ordinal_prior"],
                arrays["ordinal_thresholds"],
                arrays["ordinal_coef"],
                arrays["ordinal_intercept"],
            )
        history = HistoryIndex(meta["keys"], meta["titles"], arrays["points"], vectors)
        model = StoryPointModel(
            candidate=Candidate(*meta["candidate"]),
            scale=arrays["scale"],
            prior=arrays["prior"],
            ordinal=ordinal,
            features=TextFeatures.from_state(meta["terms"], arrays),
            history=history,
            fallback_reason=meta["fallback_reason"],
            validation=meta["validation"],
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFormatInvalid(f"story-point model is incomplete: {err}") from err
    return model
