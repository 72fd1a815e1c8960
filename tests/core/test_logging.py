"""Structured JSON logs never print credentials."""

from __future__ import annotations

import io
import json
import logging

from core.logging import configure_logging


def test_json_lines_with_redaction() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    log = logging.getLogger("t")
    log.info(
        "calling with Bearer abcdefghijklmnop and postgresql://u:hunter2@db/x",
        extra={
            "authorization": "Basic Zm9vOmJhcg==",
            "tenant": "acme",
            "headers": {"X-Token": "t0k3n"},
        },
    )
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["level"] == "INFO"
    assert record["tenant"] == "acme"
    text = json.dumps(record)
    for secret in ("abcdefghijklmnop", "hunter2", "Zm9vOmJhcg==", "t0k3n"):
        assert secret not in text
    configure_logging("INFO")
