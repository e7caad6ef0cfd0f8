"""The grader's packages point one way, so that each audience's package can ship or change alone.

    data  <-  core  <-  feedback  <-  milestones  <-  learner | instructor | platforms | maintainer

An arrow points from a package to one it may import (core may import data, which imports nothing of the
grader). The four command packages use the lower layers and never each other: a student release ships
learner/ without the instructor's, the platforms' or the maintainers' code. Imports inside functions
count as much as those at the top of a module, and no two modules import each other, directly or round
a longer loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

from grader.core.manifest import ROOT

GRADER = ROOT / "grader"
LOWER = ["data", "core", "feedback", "milestones"]  # each may import those before it
COMMANDS = ["learner", "instructor", "platforms", "maintainer"]


def allowed(source: str, target: str) -> bool:
    if source == target:
        return True
    if source in LOWER:
        return target in LOWER and LOWER.index(target) < LOWER.index(source)
    return target in LOWER or source == "grader"  # grader/__main__.py dispatches to every command


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every grader module a file imports, at any depth of its code, resolved to a module that exists."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name.startswith("grader.") and name not in MODULES:
                name = name.rpartition(".")[0]
            if name in MODULES:
                found.add(name)
                break
    return found


MODULES = {_module_name(p): p for p in GRADER.rglob("*.py") if "__pycache__" not in p.parts}
GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and module in MODULES and
                                            MODULES[module].name == "__init__.py") else "grader"


def test_every_import_between_grader_packages_points_down_the_layers():
    wrong = sorted(f"{source} imports {target} ({_package(source)} may not use {_package(target)})"
                   for source, targets in GRAPH.items() for target in targets
                   if not allowed(_package(source), _package(target)))
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_no_grader_modules_import_each_other_in_a_loop():
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join((path + [module])[(path + [module]).index(target):] + [target]))
            elif target not in state:
                visit(target, path + [module])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])
    assert not cycles, "import loops:\n" + "\n".join(cycles)


def test_the_checker_sees_lazy_imports_and_the_layers_it_guards():
    assert "grader.core.grading" in GRAPH["grader.learner.grade"], "a module-level import"
    assert "grader.data.mnist" in GRAPH["grader.core.grading"], "an import inside a function"
    assert not allowed("core", "feedback") and not allowed("learner", "instructor") and allowed("learner", "core")
