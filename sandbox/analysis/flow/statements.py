"""Statements: assignments, branches (with guards and constant folding), loops, try, with.

A block returns the frame to continue with, or None when control always leaves it (return,
raise, ``abort()``); branches are merged value by value.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from sandbox.analysis.flow import checks
from sandbox.analysis.flow import values as v
from sandbox.analysis.flow.evaluate import ExpressionsMixin
from sandbox.analysis.flow.program import FuncInfo, ModuleInfo
from sandbox.analysis.flow.specs import TERMINATORS
from sandbox.analysis.flow.values import CLEAN, Val

if TYPE_CHECKING:
    from sandbox.analysis.flow.interp import Interp

MAX_STEPS = 3_000_000  # statements over the whole run: a bound on pathological inputs
LOOP_ROUNDS = 2


class BudgetExceeded(RuntimeError):
    """The run executed more statements than ``MAX_STEPS``."""


@dataclass
class Frame:
    """One function activation (or a module body when ``func`` is None)."""

    module: ModuleInfo
    func: FuncInfo | None
    env: dict[str, Val] = field(default_factory=dict)
    returns: list[Val] = field(default_factory=list)
    chain: tuple[str, ...] = ()

    def refined(self, changes: dict[str, Val]) -> Frame:
        """A frame sharing everything but with some names rebound (one branch of an if)."""
        return replace(self, env={**self.env, **changes})


class StatementsMixin(ExpressionsMixin):
    """Execution of statements; ``Interp`` provides calls and guards."""

    steps: int

    def refine(self, test: ast.expr, frame: Frame, outcome: bool) -> dict[str, Val]:
        raise NotImplementedError  # pragma: no cover - in Interp

    def block(self, body: list[ast.stmt], frame: Frame) -> Frame | None:
        """Run statements; None when the block always leaves (return, raise, abort())."""
        for stmt in body:
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise BudgetExceeded
            result = self.statement(stmt, frame)
            if result is None:
                return None
            frame = result
        return frame

    def statement(self, stmt: ast.stmt, frame: Frame) -> Frame | None:
        """Run one statement; the frame to continue with, None when control leaves."""
        kind = type(stmt).__name__
        if kind in ("FunctionDef", "AsyncFunctionDef", "ClassDef", "Import", "ImportFrom"):
            return frame
        if kind in ("Return", "Raise", "Continue", "Break"):
            if isinstance(stmt, ast.Return):
                value = self.expr(stmt.value, frame)
                checks.returned(cast("Interp", self), stmt, value, frame)
                frame.returns.append(value)
            elif isinstance(stmt, ast.Raise) and stmt.exc is not None:
                self.expr(stmt.exc, frame)
            return None
        handler = getattr(self, "_stmt_" + kind, None)
        if handler is None:
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.expr):
                    self.expr(child, frame)
            return frame
        result: Frame | None = handler(stmt, frame)
        return result

    def _stmt_Expr(self, stmt: ast.Expr, frame: Frame) -> Frame | None:
        self.expr(stmt.value, frame)
        if isinstance(stmt.value, ast.Call) and self._terminates(stmt.value, frame):
            return None
        return frame

    def _terminates(self, call: ast.Call, frame: Frame) -> bool:
        func = call.func
        qual: str | None
        if isinstance(func, ast.Name):
            qual = frame.module.imports.get(func.id, func.id)
        else:
            qual = self.expr(func, frame).qual
        return qual in TERMINATORS

    def _stmt_Assign(self, stmt: ast.Assign, frame: Frame) -> Frame:
        value = self.expr(stmt.value, frame)
        for target in stmt.targets:
            self.bind(target, value, frame)
        return frame

    def _stmt_AnnAssign(self, stmt: ast.AnnAssign, frame: Frame) -> Frame:
        if stmt.value is not None:
            self.bind(stmt.target, self.expr(stmt.value, frame), frame)
        return frame

    def _stmt_AugAssign(self, stmt: ast.AugAssign, frame: Frame) -> Frame:
        current = self.expr(stmt.target, frame)
        update = self.expr(stmt.value, frame)
        folded = v.fold_binop(stmt.op, current, update)
        merged = (
            v.const(folded)
            if folded is not v.NOCONST
            else Val(
                taint=current.taint | update.taint,
                shape=current.shape or update.shape,
                kind=current.kind,
                pinned=current.pinned,
                origin=current.origin or update.origin,
            )
        )
        self.bind(stmt.target, merged, frame)
        return frame

    def bind(self, target: ast.expr, value: Val, frame: Frame) -> None:
        """Assign ``value`` to ``target`` (names, fields, items, unpacking); checks run here."""
        checks.assigned(cast("Interp", self), target, value, frame)
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            for index, elt in enumerate(target.elts):
                part = v.item(value, v.const(index)) if value.items else v.element(value)
                self.bind(elt.value if isinstance(elt, ast.Starred) else elt, part, frame)
        elif isinstance(target, ast.Attribute):
            base = self.expr(target.value, frame)
            if base.obj is not None:
                base.obj.fields[target.attr] = value
        elif isinstance(target, ast.Subscript):
            self._bind_item(target, value, frame)

    def _bind_item(self, target: ast.Subscript, value: Val, frame: Frame) -> None:
        container = self.expr(target.value, frame)
        key = self.expr(target.slice, frame)
        if container.kind is not None:
            return
        items = dict(container.items or ())
        if key.known and container.items is not None:
            items[key.const] = value
            updated = Val().with_items(items, container.shape or "dict")
        else:
            updated = v.join(container, replace(value, items=None, const=v.NOCONST))
            updated = replace(updated, items=None, shape=container.shape)
        self.store_back(target.value, updated, frame)

    def store_back(self, holder: ast.expr, value: Val, frame: Frame) -> None:
        """Write an updated container/object value back to where it is held."""
        if isinstance(holder, ast.Name) and holder.id in frame.env:
            frame.env[holder.id] = value
        elif isinstance(holder, ast.Attribute):
            base = self.expr(holder.value, frame)
            if base.obj is not None:
                base.obj.fields[holder.attr] = value

    def _stmt_If(self, stmt: ast.If, frame: Frame) -> Frame | None:
        truth = v.truth(self.expr(stmt.test, frame))
        if truth is True:
            return self.block(stmt.body, frame)
        if truth is False:
            return self.block(stmt.orelse, frame)
        yes = self.block(stmt.body, frame.refined(self.refine(stmt.test, frame, True)))
        no = self.block(stmt.orelse, frame.refined(self.refine(stmt.test, frame, False)))
        return _merge(frame, yes, no)

    def _stmt_For(self, stmt: ast.For | ast.AsyncFor, frame: Frame) -> Frame | None:
        element = v.element(self.expr(stmt.iter, frame))
        current: Frame | None = frame
        for _round in range(LOOP_ROUNDS):
            assert current is not None
            inner = current.refined({})
            self.bind(stmt.target, element, inner)
            after = self.block(stmt.body, inner)
            current = _merge(frame, current, after)
        assert current is not None
        return self.block(stmt.orelse, current) if stmt.orelse else current

    _stmt_AsyncFor = _stmt_For

    def _stmt_While(self, stmt: ast.While, frame: Frame) -> Frame | None:
        current: Frame | None = frame
        for _round in range(LOOP_ROUNDS):
            assert current is not None
            self.expr(stmt.test, current)
            after = self.block(stmt.body, current.refined({}))
            current = _merge(frame, current, after)
        if v.truth(self.expr(stmt.test, frame)) is True and not _has_break(stmt):
            return None
        return current

    def _stmt_With(self, stmt: ast.With | ast.AsyncWith, frame: Frame) -> Frame | None:
        for item in stmt.items:
            value = self.expr(item.context_expr, frame)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, value, frame)
        return self.block(stmt.body, frame)

    _stmt_AsyncWith = _stmt_With

    def _stmt_Try(self, stmt: ast.Try, frame: Frame) -> Frame | None:
        body = self.block(stmt.body, frame.refined({}))
        outs = [body and (self.block(stmt.orelse, body) if stmt.orelse else body)]
        for handler in stmt.handlers:
            inner = frame.refined({})
            if handler.name:
                inner.env[handler.name] = CLEAN
            outs.append(self.block(handler.body, inner))
        merged = _merge(frame, *outs)
        if stmt.finalbody:
            return self.block(stmt.finalbody, merged or frame.refined({})) and merged
        return merged

    _stmt_TryStar = _stmt_Try

    def _stmt_Match(self, stmt: Any, frame: Frame) -> Frame | None:
        self.expr(stmt.subject, frame)
        return _merge(frame, frame, *(self.block(c.body, frame.refined({})) for c in stmt.cases))


def _merge(base: Frame, *frames: Frame | None) -> Frame | None:
    alive = [f for f in frames if f is not None]
    if not alive:
        return None
    if len(alive) == 1:
        return replace(base, env=dict(alive[0].env))
    names = set().union(*(f.env for f in alive))
    env = {name: v.join(*(f.env[name] for f in alive if name in f.env)) for name in names}
    return replace(base, env=env)


def _has_break(stmt: ast.While) -> bool:
    return any(isinstance(node, ast.Break) for node in ast.walk(stmt))
