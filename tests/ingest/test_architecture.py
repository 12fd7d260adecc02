"""The house rules of ``ingest/``, checked on the source so they cannot quietly erode.

- nothing imports the app factory but the entry points (``wsgi.py``, ``cli.py``);
- no import circle between ingest modules;
- ``ingest/domain/`` imports no Flask; staff views under ``ingest/ops/`` run no queries.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ingest"
ENTRY_POINTS = {"ingest.wsgi", "ingest.cli"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, ast.Module]:
    return {
        _module_name(path): ast.parse(path.read_text(), str(path))
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
    }


def _imports(tree: ast.Module, known: set[str]) -> set[str]:
    """Ingest modules ``tree`` imports (``from ingest.x import y`` counts y when it is a module)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in known:
                found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names} & known
    return found


def _graph() -> dict[str, set[str]]:
    sources = _sources()
    known = set(sources)
    return {name: _imports(tree, known) - {name} for name, tree in sources.items()}


def test_only_the_entry_points_import_the_app_factory() -> None:
    importers = {name for name, deps in _graph().items() if "ingest.app" in deps}
    assert importers <= ENTRY_POINTS, importers - ENTRY_POINTS


def test_no_import_circle_inside_ingest() -> None:
    graph = _graph()
    # A package importing its own submodules (``ingest.ops`` gathering its areas) is no circle.
    edges = {
        name: {dep for dep in deps if not dep.startswith(f"{name}.")}
        for name, deps in graph.items()
    }
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str], on_path: set[str], done: set[str]) -> None:
        for dep in sorted(edges.get(node, ())):
            if dep in on_path:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in done:
                visit(dep, [*path, dep], on_path | {dep}, done)
        done.add(node)

    done: set[str] = set()
    for start in sorted(edges):
        if start not in done:
            visit(start, [start], {start}, done)
    assert not cycles, cycles[:3]


@pytest.mark.parametrize("name", sorted(n for n in _sources() if n.startswith("ingest.domain")))
def test_domain_modules_import_no_flask(name: str) -> None:
    tree = _sources()[name]
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    # werkzeug.security (password hashing) is a library, not the web layer.
    assert not imported & {"flask", "flask_login", "flask_wtf"}


@pytest.mark.parametrize("name", sorted(n for n in _sources() if n.startswith("ingest.ops")))
def test_staff_views_run_no_queries(name: str) -> None:
    calls = {
        node.func.id
        for node in ast.walk(_sources()[name])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not calls & {"select", "update", "delete", "insert", "text"}
