"""NumPy, the standard library and no dynamic code: the judge reads every module the learner's code reaches.

An exercise earns nothing when its file, or any helper module it reaches through relative imports (at
any depth), imports something other than NumPy and the standard library (PyTorch, the reference, the
grader, the tests), or uses dynamic code: exec, eval, compile, __import__, importlib, sys.modules, the
builtins module, frames, pickles, other programs, or names built from strings. A NumPy kata needs none
of them, and each is a way to import by indirection. Each finding is a sentence naming the file and line.
The check runs in the judge, on the source text (a detector inside the worker could be patched); the
sandbox makes the forbidden modules unreachable anyway where it runs.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from grader.core import manifest
from grader.core.report import ExerciseStatus

NAMED = {"torch": "PyTorch", "torchvision": "PyTorch", "functorch": "PyTorch", "solutions": "the reference solutions",
         "grader": "the grader", "tests": "the kata's tests",
         "exercises": "the kata's own package (use a relative import: from .layers import Layer)"}
ALLOWED = frozenset(sys.stdlib_module_names) | {"numpy"}
# Standard modules that load, run or hide code, reach other modules' globals, or start other programs.
DYNAMIC_MODULES = set("importlib imp builtins __builtin__ runpy code codeop marshal pickle _pickle shelve copyreg dill "
                      "ctypes _ctypes zipimport pkgutil inspect gc subprocess multiprocessing pty base64 binascii "
                      "codecs zlib bz2 lzma".split())
DYNAMIC_NAMES = set("exec eval compile __import__ globals locals breakpoint __builtins__ __loader__ __spec__ "
                    "chr".split())
DYNAMIC_ATTRIBUTES = set(
    "__import__ __builtins__ __loader__ __spec__ __globals__ __code__ __subclasses__ __getattribute__ f_globals "
    "f_builtins f_locals f_back tb_frame gi_frame cr_frame _getframe import_module exec_module load_module "
    "spec_from_file_location spec_from_loader module_from_spec run_path run_module SourceFileLoader system popen "
    "execv execve execvp execl execlp spawnv spawnl posix_spawn fork CodeType FunctionType ctypeslib f2py attrgetter "
    "methodcaller importlib builtins pickle marshal ctypes subprocess runpy inspect sys".split())
SYS_ATTRIBUTES = {"modules", "meta_path", "path_hooks", "path", "path_importer_cache"}
_WORD = re.compile(r"\b(" + "|".join(sorted(DYNAMIC_NAMES | DYNAMIC_ATTRIBUTES | DYNAMIC_MODULES | set(NAMED)))
                   + r")\b")
# Names no honest string spells out whole ("eval" is left out: a mode of a layer may be called that).
SPELLED = {n for n in DYNAMIC_NAMES | DYNAMIC_ATTRIBUTES if n.startswith("__")} | {
    "importlib", "builtins", "import_module", "torch", "torchvision", "solutions"}
_ATTRIBUTE_CALLS = {"getattr", "setattr", "delattr", "hasattr", "vars"}


def _folded(node: ast.AST) -> str | None:
    """The value of a string built from literals (concatenation, join, f-string, reversal), else None."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _folded(node.left), _folded(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = [_folded(v.value if isinstance(v, ast.FormattedValue) else v) for v in node.values]
        return None if None in parts else "".join(parts)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and node.slice.step is not None:
        text = _folded(node.value)
        return text[::-1] if text is not None and ast.unparse(node.slice.step) == "-1" else None
    if isinstance(node, ast.Call) and node.args and not node.keywords:
        function, first = node.func, node.args[0]
        if isinstance(function, ast.Attribute) and function.attr == "join" and isinstance(first, (ast.List, ast.Tuple)):
            separator, parts = _folded(function.value), [_folded(e) for e in first.elts]
            return None if separator is None or None in parts else separator.join(parts)
    return None


def _import_finding(name: str, dynamic_names: list[str]) -> str | None:
    root = name.split(".")[0]
    if root in NAMED:
        return f"imports {name} ({NAMED[root]})"
    if root in DYNAMIC_MODULES or dynamic_names:
        return f"imports {', '.join(dynamic_names) or name} (dynamic code)"
    return None if root in ALLOWED else f"imports {name} (neither NumPy nor the standard library)"


def _finding(node: ast.AST, modules: set[str]) -> str | None:
    """What one node does that the policy forbids, in a few words, or None."""
    if isinstance(node, ast.Import):
        return "; ".join(filter(None, (_import_finding(a.name, []) for a in node.names))) or None
    if isinstance(node, ast.ImportFrom) and node.level == 0:
        names = [a.name for a in node.names if a.name in DYNAMIC_ATTRIBUTES
                 or (node.module == "sys" and a.name in SYS_ATTRIBUTES)]
        return _import_finding(node.module or "", [f"{node.module}.{n}" for n in names])
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in DYNAMIC_NAMES:
        return f"uses {node.id} (dynamic code)"
    if isinstance(node, ast.Attribute) and (node.attr in DYNAMIC_ATTRIBUTES or node.attr in SYS_ATTRIBUTES and (
            getattr(node.value, "id", None) == "sys" or getattr(node.value, "attr", None) == "sys")
            or node.attr == "__dict__" and getattr(node.value, "id", None) in modules):
        return f"uses {ast.unparse(node)} (dynamic code)"
    if isinstance(node, ast.keyword) and node.arg == "allow_pickle" and _folded(node.value) is None and not (
            isinstance(node.value, ast.Constant) and node.value.value is False):
        return "loads a pickle (allow_pickle: dynamic code)"
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in _ATTRIBUTE_CALLS and node.args:
        owner, name = node.args[0], node.args[1] if len(node.args) > 1 else None
        if getattr(owner, "id", None) in modules and (name is None or _folded(name) is None):
            return f"uses {ast.unparse(node.func)} on the module {owner.id} by a computed name (dynamic code)"
    if isinstance(node, (ast.BinOp, ast.JoinedStr, ast.Subscript, ast.Call, ast.Constant)):
        text, built = _folded(node), not isinstance(node, ast.Constant)
        if text and (_WORD.search(text) if built else text in SPELLED):
            return f"{'builds' if built else 'spells'} the name {text!r} in a string (dynamic code)"
    return None


def findings(source: str, filename: str = "<learner>") -> list[str]:
    """Sentences naming each forbidden import or piece of dynamic code, e.g. 'layers.py line 3: uses exec ...'."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError:
        return []  # the tests report the syntax error itself
    nodes = list(ast.walk(tree))
    modules = {(a.asname or a.name).split(".")[0] for n in nodes if isinstance(n, ast.Import) for a in n.names}
    modules |= {a.asname or a.name for n in nodes if isinstance(n, ast.ImportFrom) and n.level == 0 for a in n.names}
    found = {(getattr(node, "lineno", 0), what) for node in nodes for what in [_finding(node, modules)] if what}
    return [f"{Path(filename).name} line {line}: {what}" for line, what in sorted(found)]


def reachable(module_file: Path, exercises: frozenset[str] = frozenset()) -> list[Path]:
    """The file and every module of its folder it reaches through relative imports, at any depth. Other
    exercises' modules are not followed: grading takes them from the reference, and they are judged apart."""
    files, folder = [module_file], module_file.parent
    for current in files:
        try:
            names = manifest.imported_names(current.read_text(errors="replace"), relative=True)
        except OSError:
            continue
        for name in sorted(names - exercises):
            helper = folder / f"{name}.py"
            if helper.is_file() and helper not in files:
                files.append(helper)
    return files


def violations(module_file: Path, exercises: frozenset[str] = frozenset()) -> list[str]:
    """The findings of an exercise file and of every helper module it reaches."""
    paths = reachable(module_file, exercises) if module_file.is_file() else []
    return [f for path in paths for f in findings(path.read_text(errors="replace"), path.name)]


def apply(results, target_dir: Path) -> None:
    """Forfeit the points of every exercise whose code breaks the policy, saying where."""
    exercises = frozenset(manifest.load().names)
    for result in results:
        found = violations(Path(target_dir) / result.exercise.module_file, exercises)
        if found:
            result.forfeited = True
            result.status = ExerciseStatus.FORBIDDEN_IMPORT
            result.detail = ("learner code may use NumPy and the standard library only, and no dynamic code (exec, "
                             "eval, importlib and the like), so this exercise earns nothing: " + "; ".join(found))
