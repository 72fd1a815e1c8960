"""Strict JSON from the outside: what the API and the webhook ingest accept as a JSON body.

Stricter than :func:`json.loads` where the standard library is lenient: ``NaN``/``Infinity``
(not JSON, RFC 8259) and numbers beyond a float's range (they would be written back as
``Infinity``) are refused, nesting is bounded (deep documents otherwise end in a
``RecursionError`` here or in any later recursive walk), and NUL characters, which PostgreSQL
refuses in ``text`` and ``jsonb``, can be found with their JSON pointer before anything is stored.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from core.errors import MalformedJson

MAX_DEPTH = 100
"""Deepest nesting of arrays/objects accepted (real payloads stay well under 20)."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999 would be written back as Infinity, which is not JSON
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def parse(body: bytes) -> Any:
    """The parsed document, or ``MalformedJson`` saying why it is not JSON we accept."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise MalformedJson(f"body is not valid UTF-8 (byte {err.start})") from err
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError as err:
        raise MalformedJson(f"JSON nested deeper than {MAX_DEPTH} levels") from err
    except ValueError as err:  # JSONDecodeError is a ValueError; so is a refused constant
        raise MalformedJson(f"body is not valid JSON: {_short(err)}") from err
    if depth(value) > MAX_DEPTH:
        raise MalformedJson(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def _short(err: ValueError) -> str:
    return str(err)[:200]


def depth(value: Any) -> int:
    """Nesting depth of a parsed document (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
        else:
            continue
        deepest = max(deepest, level + 1)
    return deepest


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL, and the surrogates a ``\\ud800``-style escape leaves unpaired: PostgreSQL stores neither."""


def unstorable_pointer(value: Any) -> str | None:
    """JSON pointer of the first string or key holding NUL or an unpaired surrogate, or None."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, pointer = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return pointer or "/"
        elif isinstance(item, dict):
            for key, child in item.items():
                child_pointer = f"{pointer}/{_escape(key)}"
                if _UNSTORABLE.search(key):
                    return child_pointer.encode("ascii", "backslashreplace").decode()
                stack.append((child, child_pointer))
        elif isinstance(item, list):
            stack.extend((child, f"{pointer}/{i}") for i, child in enumerate(item))
    return None


def nul_pointer(value: Any) -> str | None:
    """JSON pointer of the first string or key holding a NUL character, or None."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, pointer = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return pointer or "/"
        elif isinstance(item, dict):
            for key, child in item.items():
                child_pointer = f"{pointer}/{_escape(key)}"
                if "\x00" in key:
                    return child_pointer.replace("\x00", "\\u0000")
                stack.append((child, child_pointer))
        elif isinstance(item, list):
            stack.extend((child, f"{pointer}/{i}") for i, child in enumerate(item))
    return None
