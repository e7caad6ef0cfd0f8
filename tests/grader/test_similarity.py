"""Similarity survives mechanical disguise, measured on both sides (grader/instructor/similarity.py).

Independent honest solutions in different styles (tests/grader/similarity/, each proven to pass its exercise's
tests and to break no policy) and the reference are the honest pairs; mechanical disguises of each (no-op
statements, renaming, reordering, commuted operands, the code moved into a helper, all at once, and base64 +
zlib + exec) are the copies to catch. Run this file with -s to see the table of scores.
"""

from __future__ import annotations

import ast
import base64
import builtins
import itertools
import shutil
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from grader.core import policy
from grader.core.manifest import EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from grader.instructor import similarity

pytestmark = pytest.mark.timeout(900)
HONEST = Path(__file__).parent / "similarity"
INDEPENDENT = Path(__file__).parent / "independent"  # another author's whole files (the release-parity test's)
STYLES = sorted(p.stem for p in HONEST.glob("*.py"))
EXERCISES = sorted({style.split("_")[0] for style in STYLES})


# ---------------------------------------------------------------- honest solutions, spliced into the stub

def _functions(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            yield from ((f"{node.name}.{m.name}", m) for m in node.body if isinstance(m, ast.FunctionDef))


def splice(stub: str, style: str) -> str:
    """The stub as a learner completes it: each `raise NotImplementedError` replaced by the body of the style's
    function of the same name; the style's other methods and helper functions added to the stub."""
    style_tree, stub_tree, lines = ast.parse(style), ast.parse(stub), stub.splitlines()
    bodies = {name: textwrap.dedent("\n".join(style.splitlines()[node.body[0].lineno - 1:node.body[-1].end_lineno]))
              for name, node in _functions(style_tree)}
    stub_names, edits = {name for name, _ in _functions(stub_tree)}, []
    for name, node in _functions(stub_tree):
        last = node.body[-1]
        if name in bodies and isinstance(last, ast.Raise) and "NotImplementedError" in ast.unparse(last):
            edits.append((last.lineno - 1, last.end_lineno, textwrap.indent(bodies[name], " " * last.col_offset)))
    for node in stub_tree.body:  # methods the stub lacks go at the end of their class
        missing = [m for q, m in _functions(style_tree) if q.startswith(f"{getattr(node, 'name', '')}.")
                   and q not in stub_names]
        if isinstance(node, ast.ClassDef) and missing:
            edits.append((node.end_lineno, node.end_lineno, "\n" + "\n\n".join(
                textwrap.indent(textwrap.dedent(ast.get_source_segment(style, m, padded=True)), "    ")
                for m in missing)))
    helpers = [n for n in style_tree.body if isinstance(n, ast.FunctionDef) and n.name not in stub_names]
    anchor = max(n.end_lineno for n in stub_tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
    edits.append((anchor, anchor, "".join("\n\n" + ast.get_source_segment(style, n) for n in helpers)))
    for start, end, text in sorted(edits, reverse=True):
        lines[start:end] = text.splitlines()
    return "\n".join(lines) + "\n"


def honest_sources() -> dict[str, tuple[str, str]]:
    """{name: (exercise, source)}: each style spliced into its stub, the other author's files, the reference."""
    others = {p.stem: p.read_text() for p in sorted(INDEPENDENT.glob("*.py"))}
    found = {f"reference_{ex}": (ex, (SOLUTIONS_DIR / f"{ex}.py").read_text()) for ex in set(EXERCISES) | set(others)}
    found.update({f"{ex}_independent": (ex, text) for ex, text in others.items()})
    for style in STYLES:
        exercise = style.split("_")[0]
        found[style] = (exercise, splice((EXERCISES_DIR / f"{exercise}.py").read_text(),
                                         (HONEST / f"{style}.py").read_text()))
    return found


# ---------------------------------------------------------------- mechanical disguises

class _Noop(ast.NodeTransformer):
    """`_ = ()` after every statement, the rewrite that beat the old report."""

    def generic_visit(self, node):
        super().generic_visit(node)
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                setattr(node, field, [s for statement in statements for s in (statement, ast.parse("_ = ()").body[0])])
        return node


class _Chatter(ast.NodeTransformer):
    """`_ = len(())` after every other statement: a no-op the normaliser does not know (it calls a function),
    so only the shared runs between insertions can match."""

    def generic_visit(self, node):
        super().generic_visit(node)
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                chatter = ast.parse("_ = len(())").body
                setattr(node, field, [s for i, statement in enumerate(statements)
                                      for s in [statement] + (chatter if i % 2 else [])])
        return node


class _Temporaries(ast.NodeTransformer):
    """`return f(x)` becomes `result = f(x); return result`: each returned expression moves into a new
    statement, which the normaliser does not undo."""

    def visit_Return(self, node):
        if node.value is None or isinstance(node.value, ast.Name):
            return node
        return [ast.Assign(targets=[ast.Name("result", ast.Store())], value=node.value, lineno=node.lineno),
                ast.Return(ast.Name("result", ast.Load()))]


class _Split(ast.NodeTransformer):
    """Beyond the normaliser: `y = a * b + c` becomes `t = a * b; y = t + c` (the left operand of every stored
    or returned sum, product... moves into a temporary), which changes the statements themselves."""

    def visit_Assign(self, node):
        return self._split(node)

    def visit_Return(self, node):
        return self._split(node)

    def _split(self, node):
        if not isinstance(node.value, ast.BinOp) or isinstance(node.value.left, (ast.Name, ast.Constant)):
            return node
        temporary = ast.Assign(targets=[ast.Name("partial", ast.Store())], value=node.value.left, lineno=node.lineno)
        node.value.left = ast.Name("partial", ast.Load())
        return [temporary, node]


class _Rename(ast.NodeTransformer):
    """Every local name, argument and private attribute renamed (the public API must stay)."""

    def __init__(self, public: set[str]):
        self.public, self.names = public | {"self", "np", "super"} | set(dir(builtins)), {}

    def new(self, name: str) -> str:
        if name in self.public or name.startswith("__"):
            return name
        return self.names.setdefault(name, ("_" if name.startswith("_") else "") + f"v{len(self.names)}q")

    def visit_Name(self, node):
        node.id = self.new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.new(node.arg)
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        node.attr = self.new(node.attr) if node.attr.startswith("_") else node.attr
        return node


class _Reorder(ast.NodeTransformer):
    def generic_visit(self, node):
        super().generic_visit(node)
        if isinstance(node, (ast.Module, ast.ClassDef)):
            defs = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.ClassDef))]
            rest = [s for s in node.body if not isinstance(s, (ast.FunctionDef, ast.ClassDef))]
            node.body = rest + defs[::-1]
        return node


class _Commute(ast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Add, ast.Mult)):
            node.left, node.right = node.right, node.left
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        mirror = {ast.Gt: ast.Lt, ast.Lt: ast.Gt, ast.GtE: ast.LtE, ast.LtE: ast.GtE}
        if len(node.ops) == 1 and type(node.ops[0]) in mirror:
            node.left, node.comparators, node.ops = node.comparators[0], [node.left], [mirror[type(node.ops[0])]()]
        return node


def _rewrite(source: str, *transformers) -> str:
    tree = ast.parse(source)
    for transformer in transformers:
        tree = transformer.visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


def _public(exercise: str) -> set[str]:
    tree = ast.parse((EXERCISES_DIR / f"{exercise}.py").read_text())
    return {getattr(n, "name", None) or getattr(n, "attr", None) or getattr(n, "arg", None) or getattr(n, "id", None)
            for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Attribute, ast.arg))
            or isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.col_offset == 0} - {None}


def disguises(exercise: str, source: str) -> dict[str, dict[str, str]]:
    """{disguise: {file name: text}} of one exercise file."""
    module = f"{exercise}.py"
    hidden = base64.b64encode(zlib.compress(source.encode())).decode()
    return {
        "noop": {module: _rewrite(source, _Noop())},
        "rename": {module: _rewrite(source, _Rename(_public(exercise)))},
        "reorder": {module: _rewrite(source, _Reorder())},
        "commute": {module: _rewrite(source, _Commute())},
        "helper": {module: f"from ._{exercise}_impl import *\n", f"_{exercise}_impl.py": source},
        "all_at_once": {module: _rewrite(source, _Rename(_public(exercise)), _Reorder(), _Commute(), _Noop())},
        "temporaries": {module: _rewrite(source, _Temporaries())},
        "chatter": {module: _rewrite(source, _Chatter())},
        "split": {module: _rewrite(source, _Split())},
        "exec_base64": {module: "import base64, zlib\nexec(zlib.decompress(base64.b64decode("
                                f"{hidden!r})).decode())\n"},
    }


def _folder(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    shutil.copytree(EXERCISES_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """Every honest submission and every disguised copy of each, compared all against all at THRESHOLD 0."""
    root = tmp_path_factory.mktemp("similarity")
    honest, folders, copies = honest_sources(), {}, {}
    for name, (exercise, source) in honest.items():
        folders[name] = _folder(root, name, {f"{exercise}.py": source})
        for disguise, files in disguises(exercise, source).items():
            folders[f"{name}~{disguise}"] = _folder(root, f"{name}~{disguise}", files)
            copies[f"{name}~{disguise}"] = name
    found = similarity.compare_submissions(folders, threshold=0.0)
    scores = {frozenset((p["a"], p["b"])): p["score"] for p in found["pairs"]}
    scores.update({frozenset((e["submission"], f"reference_{e['exercise']}")): e["score"] for e in found["reference"]
                   if not e["submission"].startswith("reference_")})
    dynamic = {entry["submission"] for entry in found["dynamic"]}
    pairs = [frozenset(p) for p in itertools.combinations(honest, 2) if honest[p[0]][0] == honest[p[1]][0]]
    return {"honest": {p: scores.get(p, 0.0) for p in pairs}, "dynamic": dynamic,
            "copies": {c: scores.get(frozenset((c, original))) for c, original in copies.items()}}


@pytest.mark.nightly
def test_the_honest_solutions_pass_their_exercise_tests_and_break_no_policy(tmp_path):
    for name, (exercise, source) in honest_sources().items():
        folder = tmp_path / name
        shutil.copytree(SOLUTIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
        (folder / f"{exercise}.py").write_text(source)
        assert policy.violations(folder / f"{exercise}.py") == [], name
        if name.endswith("_independent"):
            continue  # test_release_parity.py grades the other author's files
        completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "--target", str(folder),
                                    f"tests/exercises/test_{exercise}.py"], cwd=ROOT, capture_output=True, text=True)
        assert completed.returncode == 0, (name, completed.stdout[-2000:])


def test_honest_independent_solutions_are_not_flagged(measured):
    honest = measured["honest"]
    flagged = {" & ".join(sorted(p)): s for p, s in honest.items() if s >= similarity.THRESHOLD}
    print(f"\nhonest pairs: {len(honest)}, flagged at {similarity.THRESHOLD}: {len(flagged)} "
          f"(false-positive rate {len(flagged) / len(honest):.0%}); highest score {max(honest.values()):.2f}")
    for pair, score in sorted(honest.items(), key=lambda item: -item[1]):
        print(f"  {score:.2f}  {' & '.join(sorted(pair))}")
    assert not flagged, flagged


def test_disguised_copies_are_flagged(measured):
    """None is a copy of a file with fewer than MIN_PRINTS fingerprints of its own: too little to compare."""
    copies, dynamic = measured["copies"], measured["dynamic"]
    hidden = {c for c in copies if c.endswith("exec_base64")}
    small = {c for c, score in copies.items() if score is None and c not in hidden}
    caught = {c for c, score in copies.items() if (score or 0) >= similarity.THRESHOLD or c in dynamic}
    print(f"\ndisguised copies: {len(copies)}, caught: {len(caught)} (catch rate {len(caught) / len(copies):.0%}); "
          f"of files with enough code to compare {len(caught - small)}/{len(copies) - len(small)}; lowest score "
          f"{min(s for c, s in copies.items() if c not in hidden | small):.2f}; too small: {sorted(small)}")
    for disguise in sorted({c.split("~")[1] for c in copies}):
        mine = {c: s for c, s in copies.items() if c.endswith(f"~{disguise}") and c not in small}
        print(f"  {disguise:<12} caught {sum(c in caught for c in mine)}/{len(mine)}, scores "
              + " ".join(f"{s or 0:.2f}" for s in sorted(s or 0 for s in mine.values())))
    assert caught | small == set(copies), sorted(set(copies) - caught - small)
    assert hidden <= dynamic and len({c.split("~")[0] for c in small}) <= 1, sorted(small)
