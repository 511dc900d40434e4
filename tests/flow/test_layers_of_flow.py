"""flow's floors: every module imports only from its own floor or below, without a cycle, and
an import inside a function carries a one-line reason.

The floors, lowest first (a module's floor is that of its longest matching prefix):
core (dtypes, shapes, errors) → kernels (the op table) → framework (graph, how nodes enter and
leave it) → ops (the builders under TF's names) → client (Session) → train / summary /
checkpoint / data / layers / losses / io (what programs build on a Session) → the public
namespace (``flow`` itself, ``flow.nn``, ``flow.compat``).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "flow"

FLOORS = {
    "flow.core": 0,
    "flow.kernels": 1,
    "flow.framework": 2,
    "flow.ops": 3,
    "flow.client": 4,
    "flow.train": 5, "flow.summary": 5, "flow.checkpoint": 5, "flow.data": 5,
    "flow.layers": 5, "flow.losses": 5, "flow.io": 5,
    "flow": 6,
}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def floor(module: str) -> int:
    best = max((p for p in FLOORS if module == p or module.startswith(p + ".")), key=len)
    return FLOORS[best]


def _imports(tree, module):
    """(line, imported flow module, at top level?) for every flow import in ``tree``."""
    package = module if _is_package(module) else module.rpartition(".")[0]
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            names = [f"{base}.{a.name}" if _exists(f"{base}.{a.name}") else base
                     for a in node.names]
        else:
            continue
        for name in names:
            if name == "flow" or name.startswith("flow."):
                found.append((node.lineno, name, id(node) in top))
    return found


def _is_package(module: str) -> bool:
    return (ROOT.parent / module.replace(".", "/") / "__init__.py").exists()


def _exists(module: str) -> bool:
    path = ROOT.parent / module.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
IMPORTS = {m: _imports(ast.parse(p.read_text()), m) for m, p in MODULES.items()}


def test_every_import_goes_down_or_level():
    upward = [f"{m}:{line} imports {name} (floor {floor(name)} > {floor(m)})"
              for m, found in IMPORTS.items() for line, name, _ in found
              if floor(name) > floor(m)]
    assert not upward, "\n".join(upward)


def test_no_import_cycle():
    graph = {m: {n for _, n, _ in found if n in MODULES and n != m}
             for m, found in IMPORTS.items()}
    # a submodule import also runs its package's __init__
    for m in list(graph):
        for n in list(graph[m]):
            pkg = n.rpartition(".")[0]
            while pkg and pkg != "flow" and not m.startswith(pkg):
                graph[m].add(pkg)
                pkg = pkg.rpartition(".")[0]
    state, cycle = {}, []

    def visit(m, path):
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle.append(" → ".join([*path[path.index(n):], n]))
            elif n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycle, "\n".join(cycle)


def test_imports_inside_functions_say_why():
    """An import inside a function is an exception: the line before it says why."""
    silent = []
    for m, found in IMPORTS.items():
        lines = MODULES[m].read_text().splitlines()
        for line, name, at_top in found:
            if at_top:
                continue
            before = lines[line - 2].strip()
            if not before.startswith("#") and "#" not in lines[line - 1]:
                silent.append(f"{m}:{line} imports {name}")
    assert not silent, "\n".join(silent)


@pytest.mark.parametrize("module", ["flow.framework.graph", "flow.kernels.table"])
def test_the_floor_check_sees_an_upward_import(module, tmp_path):
    """The check above can fail: an import of the Session from a lower floor is reported."""
    tree = ast.parse("from flow.client.session import Session\n")
    found = _imports(tree, module)
    assert [floor(n) > floor(module) for _, n, _ in found] == [True]
