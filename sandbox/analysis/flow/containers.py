"""Container expressions: dict, list, tuple and set literals, comprehensions."""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sandbox.analysis.flow import values as v
from sandbox.analysis.flow.values import Val

if TYPE_CHECKING:
    from sandbox.analysis.flow.statements import Frame


class ContainersMixin:
    """Literals keep their items by constant key or index; comprehensions one merged element."""

    def expr(self, node: ast.expr | None, frame: Frame) -> Val:
        raise NotImplementedError  # pragma: no cover - in ExpressionsMixin

    def bind(self, target: ast.expr, value: Val, frame: Frame) -> None:
        raise NotImplementedError  # pragma: no cover - in StatementsMixin

    def refine(self, test: ast.expr, frame: Frame, outcome: bool) -> dict[str, Val]:
        raise NotImplementedError  # pragma: no cover - in Interp

    def _Dict(self, node: ast.Dict, frame: Frame) -> Val:
        items: dict[Any, Val] = {}
        extra: list[Val] = []
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            value = self.expr(value_node, frame)
            if key_node is None:  # {**other}
                items.update(dict(value.items or ()))
                if value.items is None:
                    extra.append(value)
                continue
            key = self.expr(key_node, frame)
            if key.known:
                items[key.const] = value
            else:
                extra.append(value)
        result = Val().with_items(items, "dict")
        if extra:
            result = replace(result, items=None, taint=v.join(result, *extra).taint)
        return result

    def _sequence(self, elts: list[ast.expr], frame: Frame, shape: str) -> Val:
        items: dict[Any, Val] = {}
        rest: list[Val] = []
        for index, elt in enumerate(elts):
            if isinstance(elt, ast.Starred):
                rest.append(v.element(self.expr(elt.value, frame)))
            else:
                items[index] = self.expr(elt, frame)
        if rest:
            merged = v.join(*items.values(), *rest)
            return Val(taint=merged.taint, shape=shape, origin=merged.origin)
        result = Val().with_items(items, shape)
        if all(item.known for item in items.values()):
            result = replace(result, const=tuple(i.const for i in items.values()))
        return result

    def _List(self, node: ast.List, frame: Frame) -> Val:
        return self._sequence(node.elts, frame, "list")

    def _Tuple(self, node: ast.Tuple, frame: Frame) -> Val:
        return self._sequence(node.elts, frame, "tuple")

    def _Set(self, node: ast.Set, frame: Frame) -> Val:
        result = self._sequence(node.elts, frame, "set")
        return replace(result, const=frozenset(result.const)) if result.known else result

    def _comprehension(self, node: Any, frame: Frame, elts: list[ast.expr]) -> list[Val]:
        inner = frame.refined({})
        for gen in node.generators:
            self.bind(gen.target, v.element(self.expr(gen.iter, inner)), inner)
            for cond in gen.ifs:
                inner = inner.refined(self.refine(cond, inner, True))
        return [self.expr(elt, inner) for elt in elts]

    def _ListComp(self, node: ast.ListComp, frame: Frame) -> Val:
        (elt,) = self._comprehension(node, frame, [node.elt])
        return Val(
            taint=elt.taint,
            items=((0, elt),) if elt.tainted else None,
            shape="list",
            origin=elt.origin,
        )

    _SetComp = _ListComp
    _GeneratorExp = _ListComp

    def _DictComp(self, node: ast.DictComp, frame: Frame) -> Val:
        key, value = self._comprehension(node, frame, [node.key, node.value])
        return Val(taint=key.taint | value.taint, shape="dict", origin=value.origin)
