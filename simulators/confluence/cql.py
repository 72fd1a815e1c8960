"""The CQL subset for page search: clauses joined by AND, optional ``ORDER BY``.

Fields: type, space (key), title (``=``, ``~``), text (``~``), label, id, parent, ancestor.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from simulators.confluence.state import ConfluenceError, ConfluenceState, Page

CLAUSE = re.compile(
    r"\s*(?P<field>[\w.]+)\s*(?P<op>!=|=|~|\bin\b)\s*"
    r'(?P<value>"(?:[^"\\]|\\.)*"|\'[^\']*\'|\([^)]*\)|[^\s)]+)\s*',
    re.IGNORECASE,
)


def _values(raw: str) -> list[str]:
    raw = raw.strip()
    if raw.startswith("("):
        return [v.strip().strip("\"'") for v in raw[1:-1].split(",") if v.strip()]
    return [raw.strip("\"'")]


def _getter(state: ConfluenceState, name: str) -> Callable[[Page], list[str]]:
    getters: dict[str, Callable[[Page], list[str]]] = {
        "type": lambda p: ["page"],
        "space": lambda p: [p.space_key.lower()],
        "space.key": lambda p: [p.space_key.lower()],
        "title": lambda p: [p.title.lower()],
        "text": lambda p: [f"{p.title} {p.body}".lower()],
        "label": lambda p: [label.lower() for label in p.labels],
        "id": lambda p: [p.id],
        "content": lambda p: [p.id],
        "parent": lambda p: [p.parent_id or ""],
        "ancestor": lambda p: [a.id for a in state.ancestors(p)],
    }
    getter = getters.get(name.lower())
    if getter is None:
        raise ConfluenceError(400, f"Could not parse cql : unsupported field {name}")
    return getter


def _clause(state: ConfluenceState, name: str, op: str, raw: str) -> Callable[[Page], bool]:
    getter = _getter(state, name)
    wanted = [v.lower() for v in _values(raw)]
    if op == "~":
        return lambda p: any(w in v for w in wanted for v in getter(p))
    if op == "!=":
        return lambda p: not any(w in getter(p) for w in wanted)
    return lambda p: any(w in getter(p) for w in wanted)


def search(state: ConfluenceState, cql: str) -> list[Page]:
    """Pages matching ``cql``; raises ``ConfluenceError`` (400) outside the subset."""
    parts = re.split(r"\border\s+by\b", cql, flags=re.IGNORECASE, maxsplit=1)
    query = parts[0]
    descending = len(parts) > 1 and "desc" in parts[1].lower()
    checks: list[Callable[[Page], bool]] = []
    for part in re.split(r"\s+and\s+", query.strip(), flags=re.IGNORECASE):
        if not part.strip():
            continue
        match = CLAUSE.fullmatch(part)
        if match is None:
            raise ConfluenceError(400, f"Could not parse cql : {cql}")
        checks.append(_clause(state, match["field"], match["op"].lower(), match["value"]))
    found = [p for p in state.pages.values() if all(check(p) for check in checks)]
    return list(reversed(found)) if descending else found
