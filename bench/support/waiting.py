"""Polling until a probe answers: the benches' one wait loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait(
    what: str, probe: Callable[..., Any], timeout_s: float = 300, every_s: float = 0.02
) -> Any:
    """``probe()``'s first truthy answer, polled every ``every_s`` until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(every_s)
    raise RuntimeError(f"timed out after {timeout_s:g} s waiting for {what}")
