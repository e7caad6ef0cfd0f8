"""Generate the learner's stubs in exercises/ from the reference code in solutions/.

A solution marks the part the learner writes:

        def backward(self, grad_out):
            \"\"\"Docstring with the shapes and the math (kept in the stub).\"\"\"
            # <exercise>
            ...reference code...
            # </exercise>

Inside a function the marked lines become one `raise NotImplementedError(...)` naming the exercise and
the function; at module level (a helper only the solution needs) they are removed. Everything outside
the markers is copied unchanged, so stubs and solutions cannot drift: `make stubs` rewrites exercises/
and a test proves the committed stubs equal what this generator produces.

`make stubs` (grader/maintainer/stubgen.py) writes them; `make reset` (grader/learner/reset.py) puts one back.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import time
from pathlib import Path

from grader.core import manifest
from grader.core.manifest import ROOT, SOLUTIONS_DIR

STATE_ENV_VAR = "KATA_STATE_DIR"
RECORD = Path("grader") / "stubs.json"  # a student release's record of its stubs (it has no solutions/)

BEGIN = "# <exercise>"
END = "# </exercise>"

# The first line of every stub (tests recognise a stub by it). The header points the learner at the
# commands, never at where the answers are.
MARKER = "# Your exercise file: replace each `raise NotImplementedError(...)` with your code."
HEADER = (
    MARKER + "\n"
    "# `make check EX={name}` runs its tests; `make reset EX={name}` puts this original stub back.\n"
)


class MarkerError(ValueError):
    pass


def _qualname_at(tree: ast.Module, line: int) -> str | None:
    """Qualified name (Class.method) of the innermost function containing `line`, or None."""
    best, stack = None, [(tree, "")]
    while stack:  # the definitions containing a line form one chain, outermost first
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                    and child.lineno <= line <= child.end_lineno:
                best = best if isinstance(child, ast.ClassDef) else prefix + child.name
                stack.append((child, prefix + child.name + "."))
    return best


def make_stub(source: str, exercise: str) -> str:
    """The stub text for one solution module."""
    tree = ast.parse(source)
    out: list[str] = [HEADER.format(name=exercise)]
    begin, after_helper = None, False  # the line of the open BEGIN marker; just past a dropped helper
    for number, line in enumerate(source.splitlines(keepends=True), 1):
        marker = line.strip()
        if marker == BEGIN and begin is not None:
            raise MarkerError(f"{exercise}: line {number}: nested {BEGIN}")
        if marker == END and begin is None:
            raise MarkerError(f"{exercise}: line {number}: {END} without {BEGIN}")
        if marker == BEGIN:
            begin, indent = number, line[: len(line) - len(line.lstrip())]
        elif marker == END:
            qualname = _qualname_at(tree, begin)
            if qualname is not None:
                message = f"{exercise}: {qualname} is not implemented yet. Run `make check EX={exercise}`."
                out.append(f"{indent}raise NotImplementedError({message!r})\n")
            # A module-level helper that only the solution needs is dropped with the blank line after it.
            begin, after_helper = None, qualname is None
        elif begin is None:
            if marker or not after_helper:
                out.append(line)
            after_helper = False
    if begin is not None:
        raise MarkerError(f"{exercise}: line {begin}: {BEGIN} is never closed")
    return "".join(out)


def state_dir() -> Path:
    """The folder holding hints seen, the grade history and backups (.kata/, or $KATA_STATE_DIR)."""
    configured = os.environ.get(STATE_ENV_VAR)
    return Path(configured).expanduser().resolve() if configured else ROOT / ".kata"


def backup(path: Path) -> Path:
    """Copy a file the learner may have edited into .kata/backups/ under a time-stamped name before it is
    replaced: nothing the learner wrote is ever lost."""
    folder = state_dir() / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    copy = folder / f"{path.stem}-{stamp}{path.suffix}"
    counter = 1
    while copy.exists():  # two backups within one second keep both files
        copy = folder / f"{path.stem}-{stamp}-{counter}{path.suffix}"
        counter += 1
    shutil.copy2(path, copy)
    return copy


def expected_stubs(names: list[str] | None = None) -> dict[str, str]:
    """{exercise name: stub text} for the given exercises (default: all in the manifest)."""
    names = names or manifest.load().names
    if not SOLUTIONS_DIR.is_dir() and (ROOT / RECORD).is_file():
        recorded = json.loads((ROOT / RECORD).read_text())
        return {name: recorded[name] for name in names}
    return {name: make_stub((SOLUTIONS_DIR / f"{name}.py").read_text(), name) for name in names}
