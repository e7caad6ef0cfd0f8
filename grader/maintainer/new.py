"""`make new EX=name`: the four files a new exercise starts from, each a small working example to replace.

    grader/manifest.toml          a new [[exercise]] block, every field explained
    solutions/<name>.py           a reference with `# <exercise>` markers around what the learner writes
    tests/exercises/test_<name>.py  one judged scenario (inputs from `rng`, expected value in a lambda)
    tests/mutants/<name>.py       one known-wrong variant and one correct rewrite

Then `make generate` writes the stub, the README tables and the Classroom workflow, and `make doctor`
says what still disagrees. Nothing is overwritten: an existing file stops the command.
"""

from __future__ import annotations

import argparse
import re
import sys

from grader.core import manifest
from grader.core.manifest import EXERCISE_TESTS_DIR, MANIFEST_PATH, ROOT, SOLUTIONS_DIR
from grader.maintainer.mutation import MUTANTS_DIR

MANIFEST_BLOCK = '''
[[exercise]]
name = "{name}"             # the module name, the pytest marker and the EX= of every command
title = "One line for tables"
points = 10                 # a partial pass earns points in proportion to the tests passed
needs = ["layers"]          # exercises whose ideas this one builds on (their reference is what it imports)
stretch = true              # true: beyond the core milestones
teaches = "The mathematics in one line, for the README's exercise map"
# test_timeout = 10         # optional: seconds per test (default 10)
# parts = {{ first = "a named group of tests (@pytest.mark.part(\\"first\\"))" }}
hints = [
    "A nudge: what to look at first.",
    "The formula, with the shapes.",
    "Nearly the code.",
]
'''

SOLUTION = '''"""Exercise: {name}. The module docstring is the lesson: what is computed, and why.

Replace this example (y = 2 x and its gradient) with the exercise.
"""

import numpy as np


def double(x):
    """y = 2 x, element-wise.

    x: array of any shape. Returns an array of the same shape and dtype.
    Derivative: dy/dx = 2, so dL/dx = 2 dL/dy.
    """
    # <exercise>
    return 2 * x
    # </exercise>
'''

TEST = '''"""Exercise {name}: expected values come from closed forms computed by the judge."""

import numpy as np

from grader.feedback.checks import check_close


def test_double_multiplies_every_entry_by_two(ex, rng):
    x = rng.standard_normal((4, 3))
    check_close("double(x)", ex.double(x.copy()), lambda: x * 2.0)
'''

MUTANTS = '''"""Known-wrong variants of solutions/{name}.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("squares", "squares x instead of doubling it", "return 2 * x", "return x * x",
           diagnosis="double(x) is wrong"),
]

# Correct rewrites that must pass every test: the tests accept any correct code, not only the reference.
LEGITIMATE = [
    Mutant("adds", "adds x to itself", "return 2 * x", "return x + x", diagnosis=""),
]
'''


def files(name: str) -> dict:
    return {SOLUTIONS_DIR / f"{name}.py": SOLUTION, EXERCISE_TESTS_DIR / f"test_{name}.py": TEST,
            MUTANTS_DIR / f"{name}.py": MUTANTS}


def add_to_manifest(name: str) -> None:
    """The new block goes after the last exercise, before the milestones."""
    text = MANIFEST_PATH.read_text()
    block = MANIFEST_BLOCK.format(name=name)
    at = text.find("\n# Milestones are")
    MANIFEST_PATH.write_text(text[:at] + block + text[at:] if at >= 0 else text + block)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make new", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the new exercise's module name (lower case, underscores)")
    name = parser.parse_args(argv).name
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        print(f"make new: {name!r} is not a module name (lower case letters, digits and _)", file=sys.stderr)
        return 2
    existing = [str(path.relative_to(ROOT)) for path in files(name) if path.exists()]
    if name in manifest.load().names or existing:
        print(f"make new: {name} exists already ({', '.join(existing) or 'grader/manifest.toml'})", file=sys.stderr)
        return 2
    add_to_manifest(name)
    for path, text in files(name).items():
        path.write_text(text.format(name=name))
    print("wrote grader/manifest.toml, " + ", ".join(str(path.relative_to(ROOT)) for path in files(name)))
    print("Next: replace the examples in those four files, then `make generate` (the stub, the README tables, "
          "the Classroom workflow) and `make doctor`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
