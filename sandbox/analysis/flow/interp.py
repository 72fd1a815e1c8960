"""The interpreter: statements, calls into the analysed code, entry points, guards.

Calls into the analysed code are followed with the actual argument values (context-sensitive, up
to ``MAX_DEPTH`` frames), so a helper that quotes its input, a flag fixed to False or a lookup in
a constant table are seen for what they are in each caller.
"""

from __future__ import annotations

import ast
from typing import Any

from sandbox.analysis.flow import checks, guards, methods
from sandbox.analysis.flow import values as v
from sandbox.analysis.flow.program import ClassInfo, FuncInfo, ModuleInfo, Program
from sandbox.analysis.flow.specs import SAFE_PARAM_TYPES
from sandbox.analysis.flow.statements import Frame, StatementsMixin
from sandbox.analysis.flow.values import UNKNOWN_VAL, Obj, Val

MAX_DEPTH = 10
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


class Interp(StatementsMixin):
    """Runs the analysis over a program and collects verdicts (see ``checks.Verdicts``)."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.verdicts = checks.Verdicts()
        self.stack: list[FuncInfo] = []
        self.steps = 0
        self.memo: dict[tuple[Any, ...], Val] = {}

    # --- entry points -----------------------------------------------------------------------
    def analyze_module(self, module: ModuleInfo, called: set[str]) -> None:
        """Run the module body, then every function or method nobody in the program calls."""
        self.module_globals(module)
        functions = [*module.functions.values()]
        for cls in module.classes.values():
            self.class_attrs(cls)
            functions += cls.methods.values()
        for func in functions:
            framework = func.route is not None or _is_view_method(func)
            if framework or func.name not in called:
                self.run_entry(func, called)
        # Functions called somewhere are also run on their own (a call seen by name may belong to
        # another object): with unknown arguments they can only add findings from sources they
        # read themselves, never mark a sink clean or unknown.
        self.verdicts.quiet = True
        try:
            for func in functions:
                if not (func.route is not None or _is_view_method(func)) and func.name in called:
                    self.run_entry(func, called)
        finally:
            self.verdicts.quiet = False

    def run_entry(self, func: FuncInfo, called: set[str]) -> None:
        """Run ``func`` with the values a framework would pass it."""
        frame = Frame(func.module, func, chain=(func.name,))
        params = [*func.node.args.posonlyargs, *func.node.args.args, *func.node.args.kwonlyargs]
        first = params[1] if func.cls is not None and len(params) > 1 else None
        first = first or (params[0] if params else None)
        view = (
            func.route is not None
            or _is_view_method(func)
            or (
                func.module.uses_django
                and func.name not in called
                and first is not None
                and first.arg in ("request", "req")
            )
        )
        safe_names = _typed_route_params(func.route) if func.route is not None else set()
        for index, param in enumerate(params):
            frame.env[param.arg] = self._entry_param(func, index, param, view, safe_names)
        for extra in (func.node.args.vararg, func.node.args.kwarg):
            if extra is not None:
                frame.env[extra.arg] = UNKNOWN_VAL
        self.stack.append(func)
        try:
            self.block(func.node.body, frame)
        finally:
            self.stack.pop()

    def _entry_param(
        self, func: FuncInfo, index: int, param: ast.arg, view: bool, safe: set[str]
    ) -> Val:
        if index == 0 and func.cls is not None and not _is_static(func):
            return Val(obj=Obj(func.cls), shape="obj")
        if param.arg in ("request", "req"):
            return Val(kind="request")
        annotation = ast.unparse(param.annotation) if param.annotation is not None else ""
        if view and param.arg not in safe and annotation not in SAFE_PARAM_TYPES:
            where = (
                f"parameter {param.arg!r} of {func.name} ({func.module.path}:{func.node.lineno})"
            )
            return Val(taint=frozenset({v.WEB}), origin=where)
        return UNKNOWN_VAL

    # --- module and class bodies ----------------------------------------------------------
    def module_globals(self, module: Any) -> dict[str, Val]:
        """The module's top-level names after running its body once (checks run on the way)."""
        if module.globals is None:
            frame = Frame(module, None)
            module.globals = frame.env
            self.block([s for s in module.tree.body if not _is_def(s)], frame)
        return module.globals

    def class_attrs(self, cls: ClassInfo) -> dict[str, Val]:
        """Class-level attributes, evaluated in the module's scope."""
        if cls.attrs is None:
            cls.attrs = {}
            frame = Frame(cls.module, None, env=dict(self.module_globals(cls.module)))
            for stmt in cls.node.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                    value = self.expr(stmt.value, frame)
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    for target in targets:
                        if isinstance(target, ast.Name):
                            cls.attrs[target.id] = value
            for base in cls.bases:
                for name, value in self.class_attrs(base).items():
                    cls.attrs.setdefault(name, value)
        return cls.attrs  # type: ignore[return-value]

    # --- calls -----------------------------------------------------------------------------
    def call(self, node: ast.Call, frame: Frame) -> Val:
        """A call: into the analysed code, a known library function, or a method."""
        receiver = None
        if isinstance(node.func, ast.Attribute):
            receiver = self.expr(node.func.value, frame)
            callee = self.attribute(receiver, node.func.attr, frame, node.func)
        else:
            callee = self.expr(node.func, frame)
        args, kwargs = self.arguments(node, frame)
        ref = callee.ref
        if isinstance(ref, FuncInfo):
            owner = Val(ref=ref.cls) if ref.cls is not None and _is_classmethod(ref) else None
            return self.invoke(ref, args, kwargs, owner, frame)
        if isinstance(ref, tuple):
            return self.invoke(ref[0], args, kwargs, ref[1], frame)
        if isinstance(ref, ClassInfo):
            return self.instantiate(ref, args, kwargs, frame)
        if receiver is not None and isinstance(receiver.ref, ClassInfo) and not callee.ref:
            attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if attr == "as_manager":  # Django: a QuerySet class of the tree as a manager
                return self.instantiate(receiver.ref, [], {}, frame)
        external = receiver is None or (receiver.qual is not None and receiver.kind is None)
        if callee.qual is not None and external:
            if receiver is not None and isinstance(node.func, ast.Attribute):
                methods.qualified_receiver(
                    self, receiver, node.func.attr, args, kwargs, node, frame
                )
            return checks.external(self, callee.qual, args, kwargs, node, frame)
        if receiver is not None and isinstance(node.func, ast.Attribute):
            return methods.method(self, receiver, node.func.attr, args, kwargs, node, frame)
        return Val(taint=v.join(*args, *kwargs.values()).taint)

    def arguments(self, node: ast.Call, frame: Frame) -> tuple[list[Val], dict[str, Val]]:
        """Positional and keyword argument values (``*xs`` / ``**d`` spread when known)."""
        args: list[Val] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                spread = self.expr(arg.value, frame)
                args += [i for _k, i in spread.items or ()] or [v.element(spread)]
            else:
                args.append(self.expr(arg, frame))
        kwargs: dict[str, Val] = {}
        for keyword in node.keywords:
            value = self.expr(keyword.value, frame)
            if keyword.arg is not None:
                kwargs[keyword.arg] = value
            elif value.items is not None:
                kwargs.update({str(k): i for k, i in value.items})
            else:
                kwargs["**"] = value
        return args, kwargs

    def instantiate(
        self, cls: ClassInfo, args: list[Val], kwargs: dict[str, Val], frame: Frame
    ) -> Val:
        """A new object of an analysed class, its ``__init__`` run with the arguments."""
        instance = Val(obj=Obj(cls), shape="obj")
        init = cls.method("__init__")
        if init is not None:
            self.invoke(init, args, kwargs, instance, frame)
        elif instance.obj is not None:  # dataclass, attrs, NamedTuple: fields in declared order
            fields = [
                s.target.id
                for s in cls.node.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            ]
            for name, value in zip(fields, args, strict=False):
                instance.obj.fields[name] = value
            instance.obj.fields.update({k: kw for k, kw in kwargs.items() if k in fields})
            given = v.join(*args, *kwargs.values())
            if given.tainted and not fields:
                instance.obj.fields["*"] = Val(taint=given.taint, origin=given.origin)
        return instance

    def invoke(
        self,
        func: FuncInfo,
        args: list[Val],
        kwargs: dict[str, Val],
        bound: Val | None,
        caller: Frame,
    ) -> Val:
        """Run ``func`` with these argument values and return the join of what it returns."""
        if len(self.stack) >= MAX_DEPTH or func in self.stack:
            return Val(taint=v.join(*args, *kwargs.values()).taint)
        key = _memo_key(func, args, kwargs, bound, self.verdicts.quiet)
        if key is not None and key in self.memo:
            return self.memo[key]  # same function, same argument values: same sinks, same result
        frame = Frame(func.module, func, chain=(*caller.chain, func.name))
        self._bind_params(func, args, dict(kwargs), bound, frame)
        self.stack.append(func)
        try:
            self.block(func.node.body, frame)
        finally:
            self.stack.pop()
        result = v.join(*frame.returns) if frame.returns else v.const(None)
        if key is not None:
            self.memo[key] = result
        return result

    def _bind_params(
        self,
        func: FuncInfo,
        args: list[Val],
        kwargs: dict[str, Val],
        bound: Val | None,
        frame: Frame,
    ) -> None:
        spec = func.node.args
        positional = [*spec.posonlyargs, *spec.args]
        defaults = [None] * (len(positional) - len(spec.defaults)) + list(spec.defaults)
        module_frame = Frame(func.module, None, env=self.module_globals(func.module))
        if bound is not None and positional and not _is_static(func):
            frame.env[positional[0].arg] = bound
            positional, defaults = positional[1:], defaults[1:]
        rest = list(args)
        for param, default in zip(positional, defaults, strict=True):
            if rest:
                frame.env[param.arg] = rest.pop(0)
            elif param.arg in kwargs:
                frame.env[param.arg] = kwargs.pop(param.arg)
            else:
                frame.env[param.arg] = self.expr(default, module_frame) if default else UNKNOWN_VAL
        for param, kw_default in zip(spec.kwonlyargs, spec.kw_defaults, strict=True):
            fallback = self.expr(kw_default, module_frame) if kw_default else UNKNOWN_VAL
            frame.env[param.arg] = kwargs.pop(param.arg, fallback)
        if spec.vararg is not None:
            frame.env[spec.vararg.arg] = Val().with_items(dict(enumerate(rest)), "tuple")
        if spec.kwarg is not None:
            spread = kwargs.pop("**", None)
            packed = Val().with_items(dict(kwargs), "dict")
            frame.env[spec.kwarg.arg] = v.join(packed, spread) if spread else packed

    # --- guards -----------------------------------------------------------------------------
    def refine(self, test: ast.expr, frame: Frame, outcome: bool) -> dict[str, Val]:
        """Names proven safe when ``test`` evaluates to ``outcome`` (allow-lists, validators)."""
        return guards.refine(self, test, frame, outcome)

    def where(self, frame: Frame, node: ast.AST) -> str:
        """``path:line`` of a node in the frame's module."""
        return f"{frame.module.path}:{getattr(node, 'lineno', 0)}"


def _memo_key(
    func: FuncInfo, args: list[Val], kwargs: dict[str, Val], bound: Val | None, quiet: bool
) -> tuple[Any, ...] | None:
    """A hashable key of a call, None when an argument is a mutable object (no caching)."""
    parts: list[Any] = [id(func), quiet]
    receiver = [bound] if bound is not None else []
    for value in [*args, *receiver, *kwargs.values()]:
        if _holds_object(value):
            return None
        parts.append((value, id(value.ref) if value.ref is not None else 0))
    parts.append(tuple(kwargs))
    key = tuple(parts)
    try:
        hash(key)
    except TypeError:  # an unhashable folded constant (a dict literal)
        return None
    return key


def _holds_object(value: Val) -> bool:
    if value.obj is not None:
        return True
    return any(_holds_object(item) for _k, item in value.items or ())


def _is_view_method(func: FuncInfo) -> bool:
    """An HTTP handler of a class-based view (Django View/APIView/ViewSet, Flask MethodView)."""
    if func.cls is None or func.name not in HTTP_METHODS:
        return False
    bases = [ast.unparse(b).rsplit(".", 1)[-1] for b in func.cls.node.bases]
    return any(b.endswith(("View", "ViewSet", "Resource")) for b in bases)


def _is_def(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)


def _is_classmethod(func: FuncInfo) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "classmethod" for d in func.node.decorator_list)


def _is_static(func: FuncInfo) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in func.node.decorator_list)


def _typed_route_params(route: ast.Call) -> set[str]:
    """Names of URL variables with a numeric converter (``<int:id>``): they carry no text."""
    names: set[str] = set()
    for arg in route.args[:1]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            for part in arg.value.split("<")[1:]:
                converter, _, name = part.split(">")[0].rpartition(":")
                if converter in ("int", "float", "uuid"):
                    names.add(name)
    return names
