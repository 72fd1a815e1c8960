"""The stored form: round trip, no pickle, clear refusal of anything else."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from core.estimation import ModelFormatInvalid, Story, dumps, fit_model, loads
from core.estimation.codec import FORMAT
from tests.core.estimation.synthetic import make_history

TITLES = ["fix typo in docs", "button for export page", "engine sharding", "gamma", "qqq"]


def test_round_trip_gives_the_same_estimates() -> None:
    model = fit_model(make_history(200, seed=21))
    restored = loads(dumps(model))
    for title in TITLES:
        assert restored.estimate(title, "alpha") == model.estimate(title, "alpha")
    assert restored.candidate == model.candidate and restored.validation == model.validation


def test_median_only_model_round_trips() -> None:
    model = fit_model([Story(f"S-{i}", f"s {i}", "", 2.0) for i in range(3)])
    restored = loads(dumps(model))
    assert restored.estimate("s 1") == model.estimate("s 1")


def test_bytes_are_an_npz_without_pickled_objects() -> None:
    data = dumps(fit_model(make_history(80, seed=22)))
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)
        meta = json.loads(archive["meta"].tobytes())
    assert meta["format"] == FORMAT and meta["version"] == 1


def test_garbage_and_foreign_versions_are_refused() -> None:
    with pytest.raises(ModelFormatInvalid):
        loads(b"not a model")
    buffer = io.BytesIO()
    meta = {"format": FORMAT, "version": 99}
    np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    with pytest.raises(ModelFormatInvalid, match="version 99"):
        loads(buffer.getvalue())
