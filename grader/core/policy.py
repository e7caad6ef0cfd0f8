"""NumPy and the standard library only: the judge reads the learner's source for forbidden imports.

Learner code that imports PyTorch, the reference, the grader or the tests earns nothing for that exercise,
with a sentence naming the import. The check runs in the judge, on the source text (a detector inside
the worker could be patched); the sandbox makes those modules unreachable anyway. Relative imports of the
learner's own modules are fine, and so is anything else (NumPy, the standard library).
"""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {
    "torch": "PyTorch", "torchvision": "PyTorch", "functorch": "PyTorch",
    "solutions": "the reference solutions", "grader": "the grader", "tests": "the kata's tests",
    "exercises": "the kata's own package (use a relative import: from .layers import Layer)",
}
DYNAMIC = ("__import__", "import_module", "exec_module", "spec_from_file_location", "run_path", "SourceFileLoader")


def _root(name: str | None) -> str:
    return (name or "").split(".")[0]


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def forbidden_imports(source: str, filename: str = "<learner>") -> list[str]:
    """Sentences naming each forbidden import in `source`, with its line ('layers.py line 3: imports torch')."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError:
        return []  # the tests report the syntax error itself
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.Call):
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            if called in DYNAMIC:
                names = [s for s in _strings(node) if _root(s) in FORBIDDEN or "solutions" in s]
        for name in names:
            root = _root(name) if _root(name) in FORBIDDEN else ("solutions" if "solutions" in name else None)
            if root is not None:
                found.append(f"{Path(filename).name} line {node.lineno}: imports {name} ({FORBIDDEN[root]})")
    return found


def _own_helpers(source: str, folder: Path) -> list[Path]:
    """The learner's own non-exercise modules this file imports relatively (one level)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            modules += [node.module] if node.module else [alias.name for alias in node.names]
    return [folder / f"{m.split('.')[0]}.py" for m in modules if (folder / f"{m.split('.')[0]}.py").is_file()]


def violations(module_file: Path) -> list[str]:
    """Forbidden imports of an exercise file and of the learner's helper modules it imports."""
    if not module_file.is_file():
        return []
    source = module_file.read_text(errors="replace")
    found = forbidden_imports(source, module_file.name)
    for helper in _own_helpers(source, module_file.parent):
        found += forbidden_imports(helper.read_text(errors="replace"), helper.name)
    return found


def apply(results, target_dir: Path) -> None:
    """Forfeit the points of every exercise whose code imports something forbidden, saying why."""
    from grader.core.report import ExerciseStatus

    for result in results:
        found = violations(Path(target_dir) / result.exercise.module_file)
        if found:
            result.forfeited = True
            result.status = ExerciseStatus.FORBIDDEN_IMPORT
            result.detail = ("learner code may use NumPy and the standard library only, so this exercise earns "
                             "nothing: " + "; ".join(found))
