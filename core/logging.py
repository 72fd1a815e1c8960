"""Structured JSON logging that never prints secrets.

Every record is one JSON object per line. A redaction filter masks values of keys that look like
credentials (``authorization``, ``token``, ``secret``, ``password``, ``api_key`` ...) in ``extra``
fields, and masks bearer/basic/JWT credentials and DSN passwords inside messages.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Mapping
from typing import Any

REDACTED = "***"
_SENSITIVE_KEY = re.compile(
    r"(authorization|token|secret|password|passwd|api[_-]?key|signature|cookie|private[_-]?key|"
    r"operator[_-]?key|credential)",
    re.IGNORECASE,
)
_SENSITIVE_TEXT = [
    (re.compile(r"(?i)\b(bearer|basic|jwt)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"(?i)(\w+://[^:/@\s]+:)[^@\s]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"(?i)\b(sha256=)[0-9a-f]{16,}"), r"\1" + REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), "whsec_" + REDACTED),
    (re.compile(r"\bdck_[A-Za-z0-9_-]{8,}"), "dck_" + REDACTED),
]
# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact_text(text: str) -> str:
    """Mask credentials that appear inside free text."""
    for pattern, replacement in _SENSITIVE_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, key: str = "") -> Any:
    """Mask secrets in a value, recursively; keys that name credentials lose their value."""
    if key and _SENSITIVE_KEY.search(key):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per record, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
        }
        for attr, value in vars(record).items():
            if attr not in _STANDARD_ATTRS and not attr.startswith("_"):
                payload[attr] = redact(value, attr)
        if record.exc_info:
            payload["exc"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Route the root logger to one JSON handler (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dcoder", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._dcoder = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
