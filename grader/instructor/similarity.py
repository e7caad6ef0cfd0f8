"""Which submissions are near-identical, or hide their code: shown beside the scores, never changing them.

Each exercise file, with the helper modules it reaches (grader/core/policy.py), is parsed and normalised
so that mechanical disguises change nothing: docstrings, `pass`, bare constants, unread stores (`_ = ()`)
and `if False:` branches are dropped, the operands of + * & | ^ == != and/or sorted, `a > b` read as
`b < a`, definitions put in a canonical order, and invented names (variables, arguments, private
attributes) replaced by one symbol; builtins, NumPy's names and the stub's public names are kept. Each
statement, and each value a statement stores or returns, becomes a unit of syntax-tree tokens whose
K-token windows are fingerprinted by winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003), so inserted,
reordered or split-off statements leave the others' fingerprints unchanged. Fingerprints of the stub are
discounted. Two files are near-identical when THRESHOLD of the smaller one's fingerprints are shared (the
report gives matching line spans); each submission is also compared with the public reference. Code run
from hidden text (exec of a compressed string) cannot be compared: it is flagged on its own. THRESHOLD is
measured in tests/grader/test_similarity.py on honest independent solutions and disguised copies.
"""

from __future__ import annotations

import ast
import builtins
import functools
import hashlib
from pathlib import Path

import numpy as np

from grader.core import manifest, policy, report
from grader.core.manifest import EXERCISES_DIR, SOLUTIONS_DIR

K, W, MIN_UNIT = 12, 4, 3
THRESHOLD = 0.75
MIN_PRINTS = 8  # fewer own fingerprints than this (a stub, a few lines) is too little to compare
_COMMUTATIVE = (ast.Add, ast.Mult, ast.BitAnd, ast.BitOr, ast.BitXor)
_STORES = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)
_MIRRORED = {ast.Gt: ast.Lt, ast.GtE: ast.LtE}
_NAMES = set(dir(builtins)) | {"np", "self"}  # kept as variables; NumPy's names are kept as attributes only
_ATTRIBUTES = set(dir(np)) | set(dir(np.ndarray))


def _labels(node: ast.AST, kept: set[str]) -> list[tuple[str, int]]:
    """The tree as (token, line) pairs in pre-order: node types, with invented names replaced by N. A "|"
    token starts each statement and each value a statement stores or returns (its own unit: `return f(x)`
    and `y = f(x)` share the unit f(x))."""
    found, stack = [], [(node, 0, False)]
    while stack:
        node, line, unit = stack.pop()
        if isinstance(node, ast.expr_context):
            continue
        line = getattr(node, "lineno", line)
        name = getattr(node, "id", None) or getattr(node, "name", None)
        if isinstance(node, ast.Constant):
            name = "S" if isinstance(node.value, (str, bytes)) else "C"
        elif isinstance(node, ast.Attribute):
            name = node.attr if node.attr in kept or node.attr in _ATTRIBUTES else "N"
        elif isinstance(name, str):
            name = name if name in kept or name in _NAMES else "N"
        found += [("|", line)] if unit or isinstance(node, ast.stmt) else []
        found.append((f"{type(node).__name__}:{name}" if name else type(node).__name__, line))
        value = getattr(node, "value", None) if isinstance(node, _STORES) else None
        stack += [(child, line, child is value) for child in reversed(list(ast.iter_child_nodes(node)))]
    return found


def _operands(node: ast.AST, op: type) -> list[ast.AST]:
    same = isinstance(node, ast.BinOp) and type(node.op) is op
    return _operands(node.left, op) + _operands(node.right, op) if same else [node]


class _Normalise(ast.NodeTransformer):
    """Undo the mechanical disguises listed in the module docstring, bottom-up."""

    def __init__(self, tree: ast.AST, kept: set[str]):
        self.kept = kept
        self.read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}

    def key(self, node: ast.AST) -> str:
        return " ".join(label for label, _ in _labels(node, self.kept))

    def _noop(self, node: ast.stmt) -> bool:
        pure = (ast.Constant, ast.Name, ast.Tuple, ast.List, ast.Set, ast.Dict)
        bare = isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.Name))
        if isinstance(node, ast.Pass) or bare:
            return True
        return (isinstance(node, ast.Assign) and isinstance(node.value, pure)
                and all(isinstance(n, pure) for n in ast.walk(node.value) if isinstance(n, ast.expr))
                and all(isinstance(t, ast.Name) and t.id not in self.read for t in node.targets))

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                kept = []
                for statement in statements:
                    if isinstance(statement, ast.If) and isinstance(statement.test, ast.Constant):
                        kept += statement.body if statement.test.value else statement.orelse
                    elif not self._noop(statement):
                        kept.append(statement)
                definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
                setattr(node, field, [s for s in kept if not isinstance(s, definitions)]
                        + sorted((s for s in kept if isinstance(s, definitions)), key=self.key))
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.op, _COMMUTATIVE):
            return node
        operands = sorted(_operands(node, type(node.op)), key=self.key)  # a + b + c in one canonical order
        return functools.reduce(lambda left, right: ast.BinOp(left, node.op, right, lineno=node.lineno), operands)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        node.values.sort(key=self.key)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) == 1 and type(node.ops[0]) in _MIRRORED:
            node.left, node.comparators, node.ops = node.comparators[0], [node.left], [_MIRRORED[type(node.ops[0])]()]
        elif len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            node.left, node.comparators[0] = sorted([node.left, node.comparators[0]], key=self.key)
        return node


def _parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return ast.Module(body=[], type_ignores=[])


def _public_names(stub: str) -> set[str]:
    """The names the stub defines or uses: the exercise's API, the same in every honest submission."""
    return {getattr(n, "name", None) or getattr(n, "attr", None) for n in ast.walk(_parse(stub))
            if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Attribute))}


def _hash(tokens: list[tuple[str, int]]) -> int:
    return int.from_bytes(hashlib.blake2b(" ".join(t for t, _ in tokens).encode(), digest_size=8).digest(), "big")


def fingerprints(files: dict[str, str], kept: set[str] = frozenset()) -> dict[int, list]:
    """{winnowed k-gram hash: [file, first line, last line]} of the files, statement by statement: a k-gram
    never spans two statements (a compound statement's own unit is its header)."""
    chosen: dict[int, list] = {}
    for name, source in files.items():
        tree = _parse(source)  # normalised tokens; none when it does not parse
        stream = _labels(_Normalise(tree, kept).visit(tree), kept)
        starts = [i for i, (token, _) in enumerate(stream) if token == "|"] + [len(stream)]
        for unit in (stream[a + 1:b] for a, b in zip(starts, starts[1:]) if b - a > MIN_UNIT):
            grams = [(_hash(unit[i:i + K]), i) for i in range(max(1, len(unit) - K + 1))]
            for start in range(max(1, len(grams) - W + 1)):
                value, i = min(grams[start:start + W], key=lambda g: (g[0], -g[1]))  # the rightmost smallest
                chosen.setdefault(value, [name, unit[i][1], unit[min(i + K, len(unit)) - 1][1]])
    return chosen


def _spans(places: list[list]) -> dict[str, list[list[int]]]:
    """Merge [file, first, last] places into maximal line spans per file."""
    merged: dict[str, list[list[int]]] = {}
    for name, first, last in sorted(places):
        spans = merged.setdefault(name, [])
        if spans and first <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], last)
        else:
            spans.append([first, last])
    return merged


def compare(a: dict[int, list], b: dict[int, list], stub: dict[int, list]) -> dict | None:
    """Score and matching spans of two fingerprint sets, or None if too little to compare."""
    own_a, own_b = ({k: v for k, v in prints.items() if k not in stub} for prints in (a, b))
    if min(len(own_a), len(own_b)) < MIN_PRINTS:
        return None
    shared = set(own_a) & set(own_b)
    return {"score": round(len(shared) / min(len(own_a), len(own_b)), 3),
            "spans_a": _spans([own_a[k] for k in shared]), "spans_b": _spans([own_b[k] for k in shared])}


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _files(folder: Path, module_file: str, exercises: frozenset[str]) -> dict[str, str]:
    """The exercise file and the helper modules it reaches, by name."""
    path = folder / module_file
    return {p.name: _read(p) for p in policy.reachable(path, exercises)} if path.is_file() else {}


def compare_submissions(folders: dict[str, Path], threshold: float = THRESHOLD) -> dict:
    """Near-identical pairs per exercise, submissions near-identical to the reference, and dynamic code."""
    kata = manifest.load()
    exercises = frozenset(kata.names)
    found = {"threshold": threshold, "k": K, "window": W, "kata_version": report.kata_version(), "pairs": [],
             "reference": [], "dynamic": []}
    names = sorted(folders)
    for exercise in kata.exercises:
        stub_source = _read(EXERCISES_DIR / exercise.module_file)
        kept = _public_names(stub_source)
        stub = fingerprints({exercise.module_file: stub_source}, kept)
        once = functools.lru_cache(maxsize=None)(lambda files: fingerprints(dict(files), kept))  # untouched stubs
        prints = {name: once(tuple(_files(folders[name], exercise.module_file, exercises).items())) for name in names}
        reference = fingerprints({exercise.module_file: _read(SOLUTIONS_DIR / exercise.module_file)}, kept)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                match = compare(prints[first], prints[second], stub)
                if match and match["score"] >= threshold:
                    found["pairs"].append({"exercise": exercise.name, "a": first, "b": second, **match})
            match = compare(prints[first], reference, stub)
            if match and match["score"] >= threshold:
                found["reference"].append({"exercise": exercise.name, "submission": first, **match})
            dynamic = [f for f in policy.violations(folders[first] / exercise.module_file, exercises)
                       if "dynamic code" in f]
            if dynamic:
                found["dynamic"].append({"exercise": exercise.name, "submission": first, "findings": dynamic})
    return found


def summary_for(found: dict, name: str) -> list[str]:
    """Short phrases for one submission's gradebook row, e.g. 'layers: 0.97 like bob'."""
    phrases = [f"{pair['exercise']}: {pair['score']:.2f} like {pair['b'] if pair['a'] == name else pair['a']}"
               for pair in found["pairs"] if name in (pair["a"], pair["b"])]
    phrases += [f"{entry['exercise']}: {entry['score']:.2f} like the reference"
                for entry in found["reference"] if entry["submission"] == name]
    phrases += [f"{entry['exercise']}: dynamic code, not comparable ({entry['findings'][0]})"
                for entry in found.get("dynamic", []) if entry["submission"] == name]
    return phrases
