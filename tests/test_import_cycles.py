"""The package's import graph has no cycle.

The imports are read from the source (``ast``), not executed: module-level and function-local
imports both count (a function-local import only hides a cycle until the function runs); imports
under ``if TYPE_CHECKING:`` do not (they never run). ``from pkg import name`` counts as an import
of ``pkg`` and, when ``name`` is a module, of ``pkg.name``. A module importing one of its own
parent packages is not a cycle (Python has that package initialised first).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "planeco_kernel"

KNOWN_CYCLES: set[frozenset[str]] = set()
# (the components <-> sources_step cycle is gone since the source step moved to bundle/, data14)


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    out = {}
    for f in sorted(root.rglob("*.py")):
        parts = list(f.relative_to(root.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (f, is_pkg)
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return any((isinstance(n, ast.Name) and n.id == "TYPE_CHECKING")
               or (isinstance(n, ast.Attribute) and n.attr == "TYPE_CHECKING") for n in ast.walk(test))


def _imports(tree: ast.AST, module: str, is_pkg: bool) -> set[str]:
    """Every dotted name ``module`` imports (a superset: names that are not modules are dropped later)."""
    package = module if is_pkg else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for n in node.orelse:
                visit(n)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """``{module: modules of the same package it imports}``."""
    mods = _modules(root)
    graph = {}
    for m, (f, is_pkg) in mods.items():
        deps = _imports(ast.parse(f.read_text(encoding="utf-8"), str(f)), m, is_pkg)
        graph[m] = {d for d in deps if d in mods and d != m and not m.startswith(d + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: set[frozenset[str]] = set()
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.add(frozenset(comp))
    return out


def _path(graph: dict[str, set[str]], comp: frozenset[str]) -> str:
    """One cycle through ``comp``, for the message: a -> b -> a."""
    start = min(comp)
    path, seen = [start], {start}
    while True:
        nxt = sorted(d for d in graph[path[-1]] if d in comp)
        back = [d for d in nxt if d == start]
        if back and len(path) > 1:
            return " -> ".join([*path, start])
        fresh = [d for d in nxt if d not in seen]
        if not fresh:
            return " -> ".join([*path, *nxt[:1]])
        path.append(fresh[0])
        seen.add(fresh[0])


def test_the_package_has_no_import_cycle():
    graph = import_graph(ROOT)
    found = cycles(graph)
    new = found - KNOWN_CYCLES
    assert not new, "import cycles (break them: move the shared code down a layer, see ARCHITECTURE.md):\n" + \
        "\n".join(_path(graph, c) for c in sorted(new, key=sorted))
    stale = KNOWN_CYCLES - found
    assert not stale, f"these known cycles are gone: delete them from KNOWN_CYCLES: {[sorted(c) for c in stale]}"


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / "pkg" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root / "pkg"


def test_checker_finds_local_and_relative_imports_and_skips_type_checking(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg import b\n",
        "b.py": "def f():\n    from . import a\n",  # function-local and relative: counts
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.d import X\n",
        "d.py": "import pkg.c\n",
        "sub/__init__.py": "from .e import E\n",
        "sub/e.py": "from pkg.sub import helpers\nE = 1\n",  # own package: not a cycle
        "sub/helpers.py": "from .. import a\n",
    })
    graph = import_graph(pkg)
    assert graph["pkg.b"] == {"pkg.a"} and graph["pkg.c"] == set() and graph["pkg.sub.helpers"] == {"pkg.a"}
    assert cycles(graph) == {frozenset({"pkg.a", "pkg.b"})}
    assert _path(graph, frozenset({"pkg.a", "pkg.b"})) == "pkg.a -> pkg.b -> pkg.a"


def test_checker_sees_cycles_through_a_package_init(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "x/__init__.py": "from pkg.x.impl import thing\n",
        "x/impl.py": "from pkg.y import other\nthing = 1\n",
        "y.py": "from pkg.x import thing\nother = 2\n",
    })
    assert cycles(import_graph(pkg)) == {frozenset({"pkg.x", "pkg.x.impl", "pkg.y"})}
