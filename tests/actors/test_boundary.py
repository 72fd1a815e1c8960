"""The boundary between upper floors and the actors: a closed set of tenant operations, a typed
client with one method per operation, and an actor import graph without cycles."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from actors.handles import TenantClient
from actors.tenant_host import RUNTIME_OPS, runtime_op
from actors.tenant_ops import LOCKED_OPS, TenantOp

ROOT = Path(__file__).resolve().parents[2]
ACTOR_CLASS_MODULES = {
    "actors.event_relay", "actors.tenant_host", "actors.jobs", "actors.directory"
}  # fmt: skip


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node, except inside ``if TYPE_CHECKING:`` (annotations only, never run)."""
    out: list[ast.AST] = []
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
            continue
        out += [child, *_nodes(child)]
    return out


def _imports(path: Path) -> set[str]:
    """Every ``actors.*`` module imported when the file runs (inside functions too)."""
    found: set[str] = set()
    for node in _nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found.update(n for n in names if n.startswith("actors"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("actors"))
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in (ROOT / "actors").rglob("*.py")}
    return {m: {i for i in _imports(p) if i in files and i != m} for m, p in files.items()}


def test_actor_modules_import_each_other_without_a_cycle() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join([*path, module]))
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_handles_import_no_actor_class() -> None:
    assert not _graph()["actors.handles"] & ACTOR_CLASS_MODULES
    code = "import sys, actors.handles; print(sorted(m for m in sys.modules if m in %r))"
    out = subprocess.run(
        [sys.executable, "-c", code % sorted(ACTOR_CLASS_MODULES)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "[]"


def test_only_spawn_creates_actors() -> None:
    """Named actors are created (``get_if_exists``) in actors/spawn.py only."""
    creating = sorted(
        _module(p) for p in [*(ROOT / "actors").rglob("*.py"), *(ROOT / "serve_app").rglob("*.py")]
        if "get_if_exists" in p.read_text()
    )  # fmt: skip
    assert creating == ["actors.spawn"]


def test_every_operation_has_one_runtime_method_and_one_client_method() -> None:
    assert set(RUNTIME_OPS) == set(TenantOp)
    for op, method in RUNTIME_OPS.items():
        assert method.__name__ == op.value
        client_method = getattr(TenantClient, op.value)
        assert inspect.iscoroutinefunction(client_method), op
    assert LOCKED_OPS < set(TenantOp)


@pytest.mark.parametrize(
    "name", ["close", "_load", "view", "lock", "__init__", "handle_webhook", "GET", ""]
)
def test_names_outside_the_closed_set_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown tenant operation"):
        runtime_op(name)


def test_wire_names_are_the_operations_values() -> None:
    assert runtime_op("get") == (TenantOp.GET, RUNTIME_OPS[TenantOp.GET])
    assert runtime_op(TenantOp.HANDLE_EVENT)[0] is TenantOp.HANDLE_EVENT


def test_the_ingress_reaches_actors_only_through_handles_and_spawn() -> None:
    """No ``.remote(`` call and no ``ray.get``/``ray.get_actor`` above the actors floor."""
    offending = sorted(
        _module(p) for p in (ROOT / "serve_app").rglob("*.py")
        if any(s in p.read_text() for s in (".remote(", "ray.get(", "ray.get_actor("))
    )  # fmt: skip
    assert offending == []
