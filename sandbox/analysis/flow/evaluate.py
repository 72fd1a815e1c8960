"""Expressions: what value each one has, given the values of the names it uses."""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sandbox.analysis.flow import values as v
from sandbox.analysis.flow.containers import ContainersMixin
from sandbox.analysis.flow.specs import (
    LOCAL_PATH_ATTRS,
    LOCAL_SOURCES,
    REQUEST_DATA_ATTRS,
    REQUEST_GLOBALS,
    SESSION_GLOBALS,
)
from sandbox.analysis.flow.values import CLEAN, NOCONST, UNKNOWN_VAL, Val

if TYPE_CHECKING:
    from sandbox.analysis.flow.statements import Frame

BUILTIN_NAMES = frozenset(
    "eval exec compile open input int float bool len str abs round ord hash isinstance callable "
    "dict list tuple set sorted min max sum any all zip enumerate range reversed repr bytes format "
    "getattr print iter next map filter type super frozenset vars id divmod pow".split()
)


class ExpressionsMixin(ContainersMixin):
    """Evaluation of expressions; ``Interp`` provides ``call`` and the frames."""

    def call(self, node: ast.Call, frame: Frame) -> Val:  # pragma: no cover - in Interp
        raise NotImplementedError

    def class_attrs(self, cls: Any) -> dict[str, Val]:  # pragma: no cover - in Interp
        raise NotImplementedError

    def module_globals(self, module: Any) -> dict[str, Val]:  # pragma: no cover - in Interp
        raise NotImplementedError

    def where(self, frame: Frame, node: ast.AST) -> str:  # pragma: no cover - in Interp
        raise NotImplementedError

    def expr(self, node: ast.expr | None, frame: Frame) -> Val:
        """The value of ``node`` in ``frame``."""
        if node is None:
            return v.const(None)
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            return self._children(node, frame)
        result: Val = method(node, frame)
        return result

    def _children(self, node: ast.AST, frame: Frame) -> Val:
        """Unknown expression kinds: the union of their sub-expressions' taint."""
        parts = [
            self.expr(child, frame)
            for child in ast.iter_child_nodes(node)
            if isinstance(child, ast.expr)
        ]
        return Val(taint=v.join(*parts).taint) if parts else CLEAN

    def _Constant(self, node: ast.Constant, frame: Frame) -> Val:
        return v.const(node.value)

    def _Name(self, node: ast.Name, frame: Frame) -> Val:
        return self.lookup(node.id, frame, node)

    def lookup(self, name: str, frame: Frame, node: ast.AST) -> Val:
        """A name: local, then module global, import, or builtin."""
        if name in frame.env:
            return frame.env[name]
        module = frame.module
        if frame.func is not None or name in (module.globals or {}):
            glob = self.module_globals(module)
            if name in glob:
                found = glob[name]
                return replace(found, const=NOCONST) if name in module.rebound else found
        if name in module.functions:
            return Val(ref=module.functions[name])
        if name in module.classes:
            return Val(ref=module.classes[name])
        if name in module.project_imports:
            return self.project_symbol(*module.project_imports[name])
        if name in module.imports:
            return self.qualified(module.imports[name], frame, node)
        if name in BUILTIN_NAMES:
            return self.qualified(name, frame, node)
        return UNKNOWN_VAL if frame.func is not None else CLEAN

    def project_symbol(self, rel: str, name: str | None) -> Val:
        """A module of the analysed tree, or a name defined in one."""
        module = self.program.load(rel)  # type: ignore[attr-defined]
        if module is None:
            return UNKNOWN_VAL
        if name is None:
            return Val(ref=module)
        if name in module.functions:
            return Val(ref=module.functions[name])
        if name in module.classes:
            return Val(ref=module.classes[name])
        return self.module_globals(module).get(name, UNKNOWN_VAL)

    def qualified(self, qual: str, frame: Frame, node: ast.AST) -> Val:
        """An imported symbol; request and session globals get their kinds."""
        if qual in REQUEST_GLOBALS:
            return Val(kind="request", qual=qual)
        if qual in SESSION_GLOBALS:
            return Val(kind="session", qual=qual)
        if qual in LOCAL_SOURCES and qual not in ("input", "os.getenv"):
            return Val(
                taint=frozenset({v.LOCAL}), qual=qual, origin=f"{qual} at {self.where(frame, node)}"
            )
        return Val(qual=qual)

    def _Attribute(self, node: ast.Attribute, frame: Frame) -> Val:
        base = self.expr(node.value, frame)
        return self.attribute(base, node.attr, frame, node)

    def attribute(self, base: Val, attr: str, frame: Frame, node: ast.AST) -> Val:
        """``base.attr``."""
        if base.obj is not None:
            if attr in base.obj.fields:
                return base.obj.fields[attr]
            method = base.obj.cls.method(attr)
            if method is not None:
                return Val(ref=(method, base))
            attrs = self.class_attrs(base.obj.cls)
            # "*": what an object of a class with a library base was built from (a Django form)
            return attrs.get(attr, base.obj.fields.get("*", UNKNOWN_VAL))
        ref = base.ref
        if ref is not None and type(ref).__name__ == "ModuleInfo":
            return self.project_symbol(ref.path, attr)
        if ref is not None and type(ref).__name__ == "ClassInfo":
            method = ref.method(attr)
            return Val(ref=method) if method else self.class_attrs(ref).get(attr, UNKNOWN_VAL)
        if base.kind == "request":
            return self._request_attr(base, attr, frame, node)
        if base.qual is not None:
            return self.qualified(f"{base.qual}.{attr}", frame, node)
        if base.kind == "rng" or base.kind == "xml":
            return Val(kind=base.kind, taint=base.taint, origin=base.origin)
        return Val(taint=base.taint, origin=base.origin)

    def _request_attr(self, base: Val, attr: str, frame: Frame, node: ast.AST) -> Val:
        if attr == "session":
            return Val(kind="session")
        if attr in REQUEST_DATA_ATTRS:
            label = "request" if base.qual is None else base.qual
            return Val(
                taint=frozenset({v.WEB}),
                origin=f"{label}.{attr} at {self.where(frame, node)}",
                pinned=attr in LOCAL_PATH_ATTRS,  # a path on this site: no redirect elsewhere
            )
        return CLEAN

    def _Subscript(self, node: ast.Subscript, frame: Frame) -> Val:
        base = self.expr(node.value, frame)
        key = self.expr(node.slice, frame)
        if base.kind == "session":
            return CLEAN
        if isinstance(node.slice, ast.Slice) and node.slice.lower is None and base.pinned:
            return base  # a prefix of a local path stays a local path
        found = v.item(base, key)
        if base.qual == "os.environ":
            return Val(
                taint=frozenset({v.LOCAL}), origin=f"os.environ at {self.where(frame, node)}"
            )
        return found

    def _Slice(self, node: ast.Slice, frame: Frame) -> Val:
        return CLEAN

    def _BinOp(self, node: ast.BinOp, frame: Frame) -> Val:
        left, right = self.expr(node.left, frame), self.expr(node.right, frame)
        if isinstance(node.op, ast.Mod) and right.items is not None and left.known:
            right = Val(taint=right.taint, const=_tuple_const(right), origin=right.origin)
        folded = v.fold_binop(node.op, left, right)
        if folded is not NOCONST:
            return v.const(folded)
        kind = "path" if isinstance(node.op, ast.Div) and left.kind == "path" else None
        shape = "str" if "str" in (left.shape, right.shape) else None
        if isinstance(node.op, ast.Add) and left.shape == "list":
            return v.join(left, right)
        return Val(
            taint=left.taint | right.taint,
            kind=kind,
            shape=shape,
            pinned=left.pinned,
            origin=left.origin or right.origin,
        )

    def _JoinedStr(self, node: ast.JoinedStr, frame: Frame) -> Val:
        parts = [self.expr(part, frame) for part in node.values]
        if all(p.known for p in parts):
            return v.const("".join(str(p.const) for p in parts))
        first = parts[0] if parts else CLEAN
        return Val(
            taint=frozenset().union(*(p.taint for p in parts)),
            shape="str",
            pinned=first.known and first.pinned,
            origin=next((p.origin for p in parts if p.origin), ""),
        )

    def _FormattedValue(self, node: ast.FormattedValue, frame: Frame) -> Val:
        inner = self.expr(node.value, frame)
        return v.const(format(inner.const)) if inner.known else inner

    def _BoolOp(self, node: ast.BoolOp, frame: Frame) -> Val:
        results: list[Val] = []
        for operand in node.values:
            value = self.expr(operand, frame)
            truth = v.truth(value)
            if isinstance(node.op, ast.Or) and truth is True:
                return v.join(*results, value) if results else value
            if isinstance(node.op, ast.And) and truth is False:
                return v.join(*results, value) if results else value
            if truth is None or operand is node.values[-1]:
                results.append(value)
        return v.join(*results)

    def _Compare(self, node: ast.Compare, frame: Frame) -> Val:
        left = self.expr(node.left, frame)
        rights = [self.expr(c, frame) for c in node.comparators]
        if len(rights) == 1 and left.known and rights[0].known:
            folded = _fold_compare(node.ops[0], left.const, rights[0].const)
            if folded is not NOCONST:
                return v.const(folded)
        return CLEAN  # a comparison yields a bool: no attacker text

    def _UnaryOp(self, node: ast.UnaryOp, frame: Frame) -> Val:
        operand = self.expr(node.operand, frame)
        if isinstance(node.op, ast.Not):
            truth = v.truth(operand)
            return v.const(not truth) if truth is not None else CLEAN
        if operand.known and isinstance(node.op, ast.USub):
            try:
                return v.const(-operand.const)
            except TypeError:
                return CLEAN
        return operand

    def _IfExp(self, node: ast.IfExp, frame: Frame) -> Val:
        truth = v.truth(self.expr(node.test, frame))
        if truth is not None:
            return self.expr(node.body if truth else node.orelse, frame)
        yes = self.expr(node.body, frame.refined(self.refine(node.test, frame, True)))
        no = self.expr(node.orelse, frame.refined(self.refine(node.test, frame, False)))
        return v.join(yes, no)

    def _Call(self, node: ast.Call, frame: Frame) -> Val:
        return self.call(node, frame)

    def _Await(self, node: ast.Await, frame: Frame) -> Val:
        return self.expr(node.value, frame)

    def _Starred(self, node: ast.Starred, frame: Frame) -> Val:
        return self.expr(node.value, frame)

    def _NamedExpr(self, node: ast.NamedExpr, frame: Frame) -> Val:
        value = self.expr(node.value, frame)
        self.bind(node.target, value, frame)
        return value

    def _Lambda(self, node: ast.Lambda, frame: Frame) -> Val:
        return CLEAN

    def _Yield(self, node: ast.Yield, frame: Frame) -> Val:
        frame.returns.append(self.expr(node.value, frame))
        return UNKNOWN_VAL

    def _YieldFrom(self, node: ast.YieldFrom, frame: Frame) -> Val:
        frame.returns.append(v.element(self.expr(node.value, frame)))
        return UNKNOWN_VAL


def _tuple_const(value: Val) -> Any:
    if value.items is not None and all(i.known for _k, i in value.items):
        if value.shape == "dict":
            return {k: i.const for k, i in value.items}
        return tuple(i.const for _k, i in value.items)
    return NOCONST


def _fold_compare(op: ast.cmpop, left: Any, right: Any) -> Any:
    try:
        return {
            ast.Eq: lambda: left == right,
            ast.NotEq: lambda: left != right,
            ast.In: lambda: left in right,
            ast.NotIn: lambda: left not in right,
            ast.Is: lambda: left is right,
            ast.IsNot: lambda: left is not right,
            ast.Lt: lambda: left < right,
            ast.Gt: lambda: left > right,
            ast.LtE: lambda: left <= right,
            ast.GtE: lambda: left >= right,
        }[type(op)]()
    except (TypeError, KeyError):
        return NOCONST
