"""Abstract values of the dataflow pass: taint labels, folded constants, kinds, containers, objects.

Standard library only: the pass runs inside the sandbox with the tools venv's Python.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import Any

# Taint labels. WEB: request data; LOCAL: environment, argv, stdin; RAND: output of a predictable
# random generator; UNKNOWN: a value whose origin the pass cannot see (a parameter of a function
# nobody in the analysed code calls). UNKNOWN is not a finding, but it stops a sink from being
# called proven clean.
WEB, LOCAL, RAND, UNKNOWN = "web", "local", "rand", "unknown"


class _NoConst:
    def __repr__(self) -> str:
        return "NOCONST"


NOCONST: Any = _NoConst()
# A constant string prefix that pins scheme and host ("https://x.example/") or a local path ("/a").
_PINNED = re.compile(r"^(https?://[^/?#\\]+/|/[^/\\])", re.IGNORECASE)


@dataclass
class Obj:
    """An instance of a class of the analysed code (fields are updated in place)."""

    cls: Any  # program.ClassInfo
    fields: dict[str, Val] = field(default_factory=dict)


@dataclass(frozen=True)
class Val:
    """What the pass knows about one value."""

    taint: frozenset[str] = frozenset()
    const: Any = NOCONST
    kind: str | None = None  # "flask.request", "session", "sax.parser.unsafe", "xml", "ldap", ...
    qual: str | None = None  # dotted name of an imported symbol: "os.system", "flask.request"
    items: tuple[tuple[Any, Val], ...] | None = None  # container content (dict keys, indices)
    obj: Obj | None = field(default=None, compare=False)
    ref: Any = field(default=None, compare=False)  # a FuncInfo / ClassInfo / ModuleInfo / bound
    shape: str | None = None  # "str", "dict", "list", "tuple" when known
    pinned: bool = False  # a string with a constant prefix that fixes host or path
    origin: str = ""  # where the taint came from, for messages ("request.args at views.py:21")

    @property
    def tainted(self) -> bool:
        """True when attacker-controlled or predictable-random data is in the value."""
        return bool(self.taint - {UNKNOWN})

    @property
    def known(self) -> bool:
        """True when the value is a folded constant."""
        return self.const is not NOCONST

    def clean(self) -> Val:
        """The value with its taint removed (after a sanitiser)."""
        return replace(self, taint=frozenset(), origin="")

    def with_items(self, items: dict[Any, Val], shape: str) -> Val:
        """A container holding ``items``; its own taint is the union of theirs."""
        taint = frozenset().union(*(v.taint for v in items.values())) if items else frozenset()
        origin = next((v.origin for v in items.values() if v.origin), "")
        return Val(taint=taint, items=tuple(items.items()), shape=shape, origin=origin)


CLEAN = Val()
UNKNOWN_VAL = Val(taint=frozenset({UNKNOWN}))


def const(value: Any) -> Val:
    """A folded constant."""
    shape = "str" if isinstance(value, str) else None
    pinned = isinstance(value, str) and bool(_PINNED.match(value))
    return Val(const=value, shape=shape, pinned=pinned)


def join(*values: Val) -> Val:
    """The value that may be any of ``values`` (the merge at the end of an if/else)."""
    values = tuple(v for v in values if v is not None)
    if not values:
        return CLEAN
    first = values[0]
    if len(values) == 1:
        return first
    same = all(v.const == first.const and type(v.const) is type(first.const) for v in values)
    kinds = {v.kind for v in values}
    quals = {v.qual for v in values}
    shapes = {v.shape for v in values}
    items = _join_items(values)
    refs = {id(v.ref) for v in values}
    return Val(
        taint=frozenset().union(*(v.taint for v in values)),
        const=first.const if same else NOCONST,
        kind=_join_kind(kinds),
        qual=quals.pop() if len(quals) == 1 else None,
        items=items,
        obj=first.obj if all(v.obj is first.obj for v in values) else None,
        ref=first.ref if len(refs) == 1 else None,
        shape=shapes.pop() if len(shapes) == 1 else None,
        pinned=all(v.pinned for v in values),
        origin=next((v.origin for v in values if v.tainted), ""),
    )


def _join_kind(kinds: set[str | None]) -> str | None:
    if len(kinds) == 1:
        return kinds.pop()
    unsafe = sorted(k for k in kinds if k and k.endswith(".unsafe"))
    return unsafe[0] if unsafe else None  # "may be an unsafe parser" is what matters


def _join_items(values: tuple[Val, ...]) -> tuple[tuple[Any, Val], ...] | None:
    if any(v.items is None for v in values):
        return None
    merged: dict[Any, list[Val]] = {}
    for value in values:
        for key, item in value.items or ():
            merged.setdefault(key, []).append(item)
    return tuple((k, join(*vs)) for k, vs in merged.items())


def element(container: Val) -> Val:
    """Any element of ``container`` (iteration, unknown index)."""
    if container.items:
        return join(*(v for _k, v in container.items))
    if container.items is not None:  # an empty literal: what it held is unknown later on
        return Val(taint=container.taint)
    return Val(taint=container.taint, kind=_element_kind(container.kind), origin=container.origin)


def _element_kind(kind: str | None) -> str | None:
    return kind if kind in ("xml",) else None


def item(container: Val, key: Val) -> Val:
    """``container[key]``: the stored value for a folded key, else any element."""
    if container.items is not None and key.known:
        for stored_key, value in container.items:
            if stored_key == key.const:
                return value
        if container.const is NOCONST and not container.taint:
            return element(container)
    if container.known and key.known:
        try:
            return const(container.const[key.const])
        except (KeyError, IndexError, TypeError):
            return CLEAN
    found = element(container)
    return replace(found, taint=found.taint | container.taint) if container.taint else found


def fold_binop(op: ast.operator, left: Val, right: Val) -> Any:
    """The folded result of ``left op right`` when both are constants, else NOCONST."""
    if not (left.known and right.known):
        return NOCONST
    try:
        if isinstance(op, ast.Add):
            return left.const + right.const
        if isinstance(op, ast.Mod):
            return left.const % right.const
        if isinstance(op, ast.Mult) and not isinstance(left.const, str | bytes):
            return left.const * right.const
        if isinstance(op, ast.Sub):
            return left.const - right.const
    except (TypeError, ValueError, KeyError, OverflowError):
        return NOCONST
    return NOCONST


def truth(value: Val) -> bool | None:
    """The folded truth value, None when unknown."""
    if value.known:
        try:
            return bool(value.const)
        except Exception:  # noqa: BLE001 - a constant with a broken __bool__: unknown
            return None
    return None
