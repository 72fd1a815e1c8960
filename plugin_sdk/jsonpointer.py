"""RFC 6901 JSON pointers: parsing and resolving (used for event keys and field filters)."""

from __future__ import annotations

from typing import Any


class PointerError(ValueError):
    """A JSON pointer is malformed or does not resolve."""


def parse_pointer(pointer: str) -> list[str]:
    """Split ``pointer`` into unescaped reference tokens (``""`` is the whole document)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PointerError(f"{pointer!r} is not a JSON pointer (it must start with '/')")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def resolve_tokens(doc: Any, tokens: list[str]) -> Any:
    """The value at ``tokens`` in ``doc``; ``PointerError`` if there is none."""
    value = doc
    for token in tokens:
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            raise PointerError(f"no value at token {token!r}")
    return value


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``doc``; ``PointerError`` if there is none."""
    return resolve_tokens(doc, parse_pointer(pointer))
