"""Fixtures of the API tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.counter_plugin import write_counter_plugin
from tests.serve_app.api_client import operator


@pytest.fixture(scope="session")
def counter_source(serve_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("plugins")
    paths = [write_counter_plugin(root, v) for v in ("1.0.0", "2.0.0", "3.0.0")]
    with operator(serve_url) as op:
        for path in paths:
            response = op.post("/v1/plugins/sources", json={"path": str(path)})
            assert response.status_code == 201, response.text
            assert response.json()["loaded"], response.text
    yield root
