"""Method calls on values that are not objects of the analysed code (str, dict, list, library)."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from sandbox.analysis.flow import checks
from sandbox.analysis.flow import values as v
from sandbox.analysis.flow.specs import (
    CLEAN_METHODS,
    KIND_METHOD_SINKS,
    LOCAL_PATH_ATTRS,
    METHOD_SINKS,
    ORM_METHODS,
    REQUEST_DATA_ATTRS,
    SAX_EXTERNAL_FEATURES,
    SENSITIVE_COOKIE,
)
from sandbox.analysis.flow.values import CLEAN, Val

if TYPE_CHECKING:
    from sandbox.analysis.flow.interp import Interp
    from sandbox.analysis.flow.statements import Frame

_TEXT_METHODS = {
    "strip",
    "lstrip",
    "rstrip",
    "lower",
    "upper",
    "title",
    "capitalize",
    "casefold",
    "encode",
    "decode",
    "zfill",
    "ljust",
    "rjust",
    "center",
    "expandtabs",
    "swapcase",
    "removeprefix",
    "removesuffix",
    "replace",
    "translate",
}
_SPLITTERS = {"split", "rsplit", "partition", "rpartition", "splitlines"}
_MUTATORS = {"append", "add", "extend", "insert", "update", "setdefault", "appendleft"}
_SENSITIVE = re.compile(SENSITIVE_COOKIE, re.IGNORECASE)


def method(
    interp: Interp,
    receiver: Val,
    name: str,
    args: list[Val],
    kwargs: dict[str, Val],
    node: ast.Call,
    frame: Frame,
) -> Val:
    """``receiver.name(*args, **kwargs)``: sinks checked, the result's value returned."""
    everything = v.join(receiver, *args, *kwargs.values())
    special = _by_kind(interp, receiver, name, args, kwargs, node, frame)
    if special is not None:
        return special
    _sinks(interp, receiver, name, args, kwargs, node, frame)
    if name == "set_cookie":
        _cookie(interp, receiver, args, kwargs, node, frame)
        return CLEAN
    if name in CLEAN_METHODS:
        return CLEAN
    if name in _MUTATORS and isinstance(node.func, ast.Attribute):
        _mutate(interp, receiver, name, args, kwargs, node.func.value, frame)
        return v.const(None)
    return _value_method(receiver, name, args, kwargs, everything)


def qualified_receiver(
    interp: Interp,
    receiver: Val,
    name: str,
    args: list[Val],
    kwargs: dict[str, Val],
    node: ast.Call,
    frame: Frame,
) -> None:
    """Method sinks on an object reached through an import (``flask.g.db.execute(sql)``)."""
    if name in METHOD_SINKS or name == "set_cookie":
        method(interp, receiver, name, args, kwargs, node, frame)


def _by_kind(
    interp: Interp,
    receiver: Val,
    name: str,
    args: list[Val],
    kwargs: dict[str, Val],
    node: ast.Call,
    frame: Frame,
) -> Val | None:
    kind = receiver.kind
    if kind == "request":
        if name in REQUEST_DATA_ATTRS or name in ("json", "form", "body", "get_json", "get_data"):
            where = interp.where(frame, node)
            return Val(
                taint=frozenset({v.WEB}),
                origin=f"request.{name}() at {where}",
                pinned=name in LOCAL_PATH_ATTRS,
            )
        return CLEAN
    if kind == "session":
        if name in ("update", "setdefault", "__setitem__"):
            stored = args[1:] if name == "setdefault" else args
            for value in [*stored, *kwargs.values()]:
                checks.sink(interp, "flow-trust-boundary", node, frame, value, f"session.{name}")
        return CLEAN
    if kind == "rng":
        return Val(taint=frozenset({v.RAND}), origin=f"random.Random().{name}()")
    if kind == "sysrng":
        return CLEAN
    if kind == "markup" and name == "format":
        return Val(kind="markup")  # Markup.format escapes its arguments
    if kind in ("sax.parser", "sax.parser.unsafe"):
        return _sax(interp, receiver, name, args, node, frame)
    if kind == "config" or (name == "update" and _is_config(node)):
        for key, value in kwargs.items():
            checks.setting(interp, key, value, node, frame)
        return CLEAN
    return None


def _is_config(node: ast.Call) -> bool:
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Attribute)
        and (func.value.attr == "config")
    )


def _sax(
    interp: Interp, receiver: Val, name: str, args: list[Val], node: ast.Call, frame: Frame
) -> Val:
    if name == "setFeature" and len(args) >= 2:
        feature = args[0].qual or (str(args[0].const) if args[0].known else "")
        if feature in SAX_EXTERNAL_FEATURES and isinstance(node.func, ast.Attribute):
            unsafe = "sax.parser.unsafe" if v.truth(args[1]) else "sax.parser"
            interp.store_back(node.func.value, replace(receiver, kind=unsafe), frame)
    elif name == "parse" and args:
        if receiver.kind == "sax.parser.unsafe":
            checks.sink(
                interp, "flow-xxe", node, frame, args[0], "a SAX parser with external entities on"
            )
        else:
            checks.clear(interp, "flow-xxe", node, frame)
    return CLEAN


def _sinks(
    interp: Interp,
    receiver: Val,
    name: str,
    args: list[Val],
    kwargs: dict[str, Val],
    node: ast.Call,
    frame: Frame,
) -> None:
    spec = KIND_METHOD_SINKS.get((receiver.kind or "", name)) or METHOD_SINKS.get(name)
    if spec is None:
        return
    rule_id, positions, names = spec
    if not positions:  # the receiver itself is what is interpreted (a Path)
        checks.sink(interp, rule_id, node, frame, receiver, f"Path.{name}")
        return
    for pos in positions:
        value = checks._arg(args, kwargs, pos, names)
        if value is not None:
            checks.sink(interp, rule_id, node, frame, value, f".{name}()")


def _cookie(
    interp: Interp,
    receiver: Val,
    args: list[Val],
    kwargs: dict[str, Val],
    node: ast.Call,
    frame: Frame,
) -> None:
    key = checks._arg(args, kwargs, 0, ("key",))
    value = checks._arg(args, kwargs, 1, ("value",))
    if value is not None and v.RAND in value.taint:
        checks.sink(interp, "flow-weak-random", node, frame, value, "a cookie value")
    spread = "**" in kwargs
    secure = kwargs.get("secure")
    if secure is None and not spread or (secure is not None and v.truth(secure) is False):
        checks.flag(
            interp,
            "flow-cookie-insecure",
            node,
            frame,
            "Cookie without Secure: set_cookie without secure=True",
        )
    elif secure is not None and v.truth(secure) is True:
        checks.clear(interp, "flow-cookie-insecure", node, frame)
    name = str(key.const) if key is not None and key.known else ""
    httponly = kwargs.get("httponly")
    readable = (httponly is None and not spread) or (
        httponly is not None and v.truth(httponly) is False
    )
    if name and _SENSITIVE.search(name) and readable:
        checks.flag(
            interp,
            "flow-cookie-no-httponly",
            node,
            frame,
            f"Sensitive cookie readable by scripts: {name!r} without httponly=True",
        )
    elif httponly is not None or (name and not _SENSITIVE.search(name)):
        checks.clear(interp, "flow-cookie-no-httponly", node, frame)


def _mutate(
    interp: Interp,
    receiver: Val,
    name: str,
    args: list[Val],
    kwargs: dict[str, Val],
    holder: ast.expr,
    frame: Frame,
) -> None:
    if receiver.kind is not None:
        return
    if name == "update" and receiver.items is not None and args and args[0].items is not None:
        updated = receiver.with_items({**dict(receiver.items), **dict(args[0].items)}, "dict")
    else:
        added = [v.element(a) if name in ("extend", "update") else a for a in args[-1:]]
        merged = v.join(receiver, *added, *kwargs.values())
        updated = Val(taint=merged.taint, shape=receiver.shape, origin=merged.origin)
    interp.store_back(holder, updated, frame)


def _value_method(
    receiver: Val, name: str, args: list[Val], kwargs: dict[str, Val], everything: Val
) -> Val:
    if name == "format":
        if receiver.known and all(a.known for a in [*args, *kwargs.values()]):
            try:
                consts = {k: a.const for k, a in kwargs.items()}
                return v.const(receiver.const.format(*[a.const for a in args], **consts))
            except (AttributeError, IndexError, KeyError, ValueError):
                pass
        return Val(
            taint=everything.taint, shape="str", pinned=receiver.pinned, origin=everything.origin
        )
    if name == "join" and args:
        parts = args[0]
        if receiver.known and parts.known and isinstance(parts.const, tuple):
            return v.const(str(receiver.const).join(str(p) for p in parts.const))
        inner = v.element(parts)
        return Val(
            taint=receiver.taint | inner.taint | parts.taint,
            shape="str",
            origin=inner.origin or parts.origin,
        )
    if name in _TEXT_METHODS:
        if (
            receiver.known
            and all(a.known for a in args)
            and isinstance(receiver.const, str | bytes)
        ):
            try:
                return v.const(getattr(receiver.const, name)(*[a.const for a in args]))
            except (TypeError, ValueError, AttributeError):
                pass
        extra = args[1].taint if name == "replace" and len(args) > 1 else frozenset()
        return replace(
            receiver,
            taint=receiver.taint | extra,
            const=v.NOCONST,
            items=None,
            obj=None,
            ref=None,
            kind=None if receiver.kind != "path" else "path",
            pinned=receiver.pinned and not extra,  # untrusted text put in: no longer pinned
        )
    if name in _SPLITTERS:
        return Val(taint=receiver.taint, shape="list", origin=receiver.origin)
    if name in ("get", "pop"):
        return _lookup(receiver, args, kwargs)
    if name in ("values", "items", "keys", "copy"):
        if receiver.items is not None and name in ("values", "copy"):
            return receiver
        return Val(taint=receiver.taint, origin=receiver.origin)
    opaque = v.UNKNOWN in receiver.taint and receiver.items is None and receiver.shape is None
    if name in ORM_METHODS or opaque:
        # rows found with the request's values are not the request's text; nor is what a method
        # of an object we know nothing about returns (precision first: not followed)
        return Val(taint=receiver.taint, origin=receiver.origin)
    kind = receiver.kind if receiver.kind in ("xml", "path", "ldap", "ldap3") else None
    return Val(taint=everything.taint, kind=kind, origin=everything.origin)


def _lookup(receiver: Val, args: list[Val], kwargs: dict[str, Val]) -> Val:
    """``d.get(key, default)``: a constant table looked up with any key gives one of its values."""
    key = args[0] if args else CLEAN
    default = args[1] if len(args) > 1 else kwargs.get("default", v.const(None))
    if receiver.items is not None and key.known:
        for stored, value in receiver.items:
            if stored == key.const:
                return value
        return default
    found = v.item(receiver, key)
    return v.join(found, default) if receiver.items is not None or not receiver.taint else found
