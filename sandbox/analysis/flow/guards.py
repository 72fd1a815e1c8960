"""Guards: which names a condition proves safe on the branch where it holds.

``x in ALLOWED``, ``x == "literal"``, validators (``url_has_allowed_host_and_scheme(x)``,
``x.startswith("/")``, ``PATTERN.fullmatch(x)``, ``commonpath([root, x]) == root``) and validators
written in the analysed code itself (their returned condition is the summary).
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import TYPE_CHECKING

from sandbox.analysis.flow import values as v
from sandbox.analysis.flow.specs import VALIDATOR_METHODS, VALIDATORS
from sandbox.analysis.flow.values import Val

if TYPE_CHECKING:
    from sandbox.analysis.flow.interp import Interp
    from sandbox.analysis.flow.statements import Frame


def refine(interp: Interp, test: ast.expr, frame: Frame, outcome: bool) -> dict[str, Val]:
    """Names proven safe when ``test`` is ``outcome``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return refine(interp, test.operand, frame, not outcome)
    if isinstance(test, ast.BoolOp):
        if isinstance(test.op, ast.And) == outcome:  # all of them hold
            found: dict[str, Val] = {}
            for operand in test.values:
                found.update(refine(interp, operand, frame, outcome))
            return found
        return {}
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        return _refine_compare(interp, test, frame, outcome)
    if isinstance(test, ast.Call) and outcome and _is_validator(interp, test, frame):
        return _clean_names(interp, _validated_arg(interp, test, frame), frame)
    if isinstance(test, ast.Call):
        return _summary_refine(interp, test, frame, outcome)
    return {}


def _summary_refine(interp: Interp, call: ast.Call, frame: Frame, outcome: bool) -> dict[str, Val]:
    """A check written as a function of the analysed code (``def is_local(url): return ...``).

    Its summary: the parameters its returned condition proves safe when it is ``outcome``; the
    caller's arguments in those positions are refined the same way.
    """
    callee = interp.expr(call.func, frame).ref
    func = callee[0] if isinstance(callee, tuple) else callee
    body: list[ast.stmt] = list(getattr(getattr(func, "node", None), "body", None) or [])
    last = body[-1] if body else None
    if func is None or isinstance(callee, tuple) or len(body) > 3:
        return {}
    if not isinstance(last, ast.Return) or last.value is None:
        return {}
    params = [p.arg for p in func.node.args.args]
    env = {p: v.UNKNOWN_VAL for p in params}
    inner = replace(frame, module=func.module, func=func, env=env, returns=[])
    for stmt in body[:-1]:  # e.g. parts = urlsplit(url)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            interp.bind(stmt.targets[0], interp.expr(stmt.value, inner), inner)
        else:
            return {}
    proven = refine(interp, last.value, inner, outcome)
    found: dict[str, Val] = {}
    for index, arg in enumerate(call.args[: len(params)]):
        if params[index] in proven:
            found.update(_clean_names(interp, arg, frame))
    return found


def _refine_compare(
    interp: Interp, test: ast.Compare, frame: Frame, outcome: bool
) -> dict[str, Val]:
    op, right = test.ops[0], test.comparators[0]
    if isinstance(op, ast.In | ast.NotIn) and outcome == isinstance(op, ast.In):
        allowed = interp.expr(right, frame)
        # a collection the request did not fill: constants, settings, rows of the database
        if allowed.known or not allowed.tainted:
            return _clean_names(interp, test.left, frame)
    if isinstance(op, ast.Eq | ast.NotEq) and outcome == isinstance(op, ast.Eq):
        left = test.left
        if isinstance(left, ast.Call) and _qual(interp, left.func, frame) == "os.path.commonpath":
            return {n: v.CLEAN for arg in left.args for n in _names_in(arg)}
        other = interp.expr(right, frame)
        if other.known:
            return _clean_names(interp, test.left, frame)
    return {}


def _is_validator(interp: Interp, call: ast.Call, frame: Frame) -> bool:
    if isinstance(call.func, ast.Attribute) and call.func.attr in VALIDATOR_METHODS:
        return True
    return _qual(interp, call.func, frame) in VALIDATORS


def _validated_arg(interp: Interp, call: ast.Call, frame: Frame) -> ast.expr | None:
    """What a validator checks: ``x`` in ``x.startswith(...)``, ``re.match(p, x)``, ``f(x)``."""
    qual = _qual(interp, call.func, frame)
    func = call.func
    if isinstance(func, ast.Attribute) and qual is None:
        if func.attr in ("match", "fullmatch"):  # a compiled pattern: PATTERN.match(x)
            return call.args[0] if call.args else None
        return func.value
    index = 1 if (qual or "").startswith("re.") else 0
    return call.args[index] if len(call.args) > index else None


def _qual(interp: Interp, func: ast.expr, frame: Frame) -> str | None:
    if isinstance(func, ast.Name) and func.id in frame.module.imports:
        return frame.module.imports[func.id]
    if isinstance(func, ast.Attribute):
        return interp.expr(func, frame).qual
    return None


def _clean_names(interp: Interp, expr: ast.expr | None, frame: Frame) -> dict[str, Val]:
    """The root variable of ``expr`` (``x`` in ``urlparse(x).netloc``), marked clean."""
    while expr is not None and not isinstance(expr, ast.Name):
        if isinstance(expr, ast.Attribute | ast.Subscript):
            expr = expr.value
        elif isinstance(expr, ast.Call):
            if isinstance(expr.func, ast.Attribute) and not expr.args:
                expr = expr.func.value
            else:
                expr = expr.args[0] if expr.args else None
        else:
            return {}
    if expr is None:
        return {}
    current = interp.lookup(expr.id, frame, expr)
    return {expr.id: current.clean()}


def _names_in(node: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
