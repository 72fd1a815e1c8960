"""The analysed program: modules parsed on demand, their imports, functions and classes."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.analysis.flow.specs import ROUTE_DECORATORS


@dataclass(eq=False)
class FuncInfo:
    """A function or method of the analysed code."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    module: ModuleInfo
    cls: ClassInfo | None = None

    @property
    def name(self) -> str:
        """The function's name."""
        return self.node.name

    @property
    def route(self) -> ast.Call | None:
        """The ``@app.route(...)``-style decorator call, None for other functions."""
        for deco in self.node.decorator_list:
            call = deco if isinstance(deco, ast.Call) else None
            target = call.func if call else deco
            if isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS:
                return call or ast.Call(func=target, args=[], keywords=[])
        return None


@dataclass(eq=False)
class ClassInfo:
    """A class of the analysed code."""

    node: ast.ClassDef
    module: ModuleInfo
    methods: dict[str, FuncInfo] = field(default_factory=dict)
    attrs: dict[str, object] | None = None  # name -> Val, evaluated on first use
    bases: list[ClassInfo] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The class's name."""
        return self.node.name

    def method(self, name: str) -> FuncInfo | None:
        """A method of this class or of a base class in the analysed code."""
        if name in self.methods:
            return self.methods[name]
        for base in self.bases:
            found = base.method(name)
            if found is not None:
                return found
        return None


@dataclass(eq=False)
class ModuleInfo:
    """One parsed module."""

    path: str  # relative to the analysed root, POSIX
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted name
    project_imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    functions: dict[str, FuncInfo] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    rebound: set[str] = field(default_factory=set)  # globals assigned more than once
    globals: dict[str, object] | None = None  # name -> Val, evaluated on first use

    @property
    def uses_django(self) -> bool:
        """True when the module imports Django."""
        return any(q.split(".")[0] in ("django", "rest_framework") for q in self.imports.values())


class Program:
    """Modules of a source tree, loaded when a target or an import needs them."""

    def __init__(self, root: Path, max_bytes: int = 1_000_000) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.modules: dict[str, ModuleInfo | None] = {}
        self.errors: list[str] = []
        self._resolved: dict[tuple[str, str, int], str | None] = {}
        self._real_root = root.resolve()

    def load(self, rel: str) -> ModuleInfo | None:
        """The module at ``rel`` (None when it cannot be read or parsed)."""
        if rel in self.modules:
            return self.modules[rel]
        self.modules[rel] = None
        path = self.root / rel
        try:
            if path.stat().st_size > self.max_bytes:
                return None
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=rel)
        except (OSError, SyntaxError, ValueError) as err:
            self.errors.append(f"{rel}: {err}")
            return None
        module = ModuleInfo(rel, tree)
        self.modules[rel] = module
        self._index(module)
        return module

    def _index(self, module: ModuleInfo) -> None:
        seen: set[str] = set()
        for node in module.tree.body:
            for target in _assigned_names(node):
                (module.rebound if target in seen else seen).add(target)
        for child in ast.walk(module.tree):
            if isinstance(child, ast.Global):
                module.rebound.update(child.names)
        for node in module.tree.body:
            self._index_node(module, node)
        for cls in module.classes.values():
            for base in cls.node.bases:
                if isinstance(base, ast.Name) and base.id in module.classes:
                    cls.bases.append(module.classes[base.id])

    def _index_node(self, module: ModuleInfo, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                module.imports[local] = alias.name if alias.asname else local
                target = self._resolve(module, alias.name, 0)
                if target is not None:
                    module.project_imports[local] = (target, None)
        elif isinstance(node, ast.ImportFrom):
            self._index_from(module, node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            module.functions[node.name] = FuncInfo(node, module)
        elif isinstance(node, ast.ClassDef):
            cls = ClassInfo(node, module)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    cls.methods[item.name] = FuncInfo(item, module, cls)
            module.classes[node.name] = cls
        elif isinstance(node, ast.If | ast.Try):  # imports guarded by try/if
            for child in [*node.body, *getattr(node, "orelse", []), *getattr(node, "handlers", [])]:
                if isinstance(child, ast.Import | ast.ImportFrom):
                    self._index_node(module, child)

    def _index_from(self, module: ModuleInfo, node: ast.ImportFrom) -> None:
        base = node.module or ""
        for alias in node.names:
            local = alias.asname or alias.name
            if node.level == 0:
                module.imports[local] = f"{base}.{alias.name}" if base else alias.name
            as_module = self._resolve(
                module, f"{base}.{alias.name}" if base else alias.name, node.level
            )
            if as_module is not None:
                module.project_imports[local] = (as_module, None)
                continue
            owner = self._resolve(module, base, node.level) if base or node.level else None
            if owner is not None:
                module.project_imports[local] = (owner, alias.name)

    def _resolve(self, module: ModuleInfo, dotted: str, level: int) -> str | None:
        """The relative path of a project module named by an import, if the tree has it."""
        key = (str(Path(module.path).parent), dotted, level)
        if key not in self._resolved:
            self._resolved[key] = self._find(module, dotted, level)
        return self._resolved[key]

    def _find(self, module: ModuleInfo, dotted: str, level: int) -> str | None:
        here = Path(module.path).parent
        parts = [p for p in dotted.split(".") if p]
        if level:
            bases = [here.joinpath(*[".."] * (level - 1))]
        else:
            bases = [Path("."), *reversed(here.parents), here]
        for base in bases:
            stem = base.joinpath(*parts) if parts else base
            for candidate in (stem.with_suffix(".py") if parts else None, stem / "__init__.py"):
                if candidate is None:
                    continue
                normal = Path(*[p for p in candidate.parts if p != "."])
                resolved = (self.root / normal).resolve()
                if resolved.is_file() and resolved.is_relative_to(self._real_root):
                    return resolved.relative_to(self._real_root).as_posix()
        return None

    def called_names(self) -> set[str]:
        """Names called anywhere in the loaded modules (function names and method names)."""
        names: set[str] = set()
        for module in self.modules.values():
            if module is None:
                continue
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    func = node.func
                    if isinstance(func, ast.Name):
                        names.add(func.id)
                    elif isinstance(func, ast.Attribute):
                        names.add(func.attr)
                    # functions handed over as callbacks are called by someone
                    values = [*node.args, *(k.value for k in node.keywords)]
                    names.update(a.id for a in values if isinstance(a, ast.Name))
        return names


def _assigned_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AugAssign | ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []
