"""`make new EX=name`: the four files a new exercise starts from, each a small working example to replace.

The examples are the templates in scaffold/, written as the files they become (str.format: {name} is
the exercise's name, a literal brace is doubled):

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
from pathlib import Path

from grader.core import manifest
from grader.core.manifest import EXERCISE_TESTS_DIR, MANIFEST_PATH, ROOT, SOLUTIONS_DIR
from grader.maintainer.mutation import MUTANTS_DIR

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"  # the four templates; {name} is the exercise's


def template(file: str, name: str) -> str:
    return (SCAFFOLD / file).read_text().format(name=name)


def files(name: str) -> dict:
    """{path: template} of the three files a new exercise starts from, beside its manifest block."""
    return {SOLUTIONS_DIR / f"{name}.py": "solution.py.tmpl", EXERCISE_TESTS_DIR / f"test_{name}.py": "test.py.tmpl",
            MUTANTS_DIR / f"{name}.py": "mutants.py.tmpl"}


def add_to_manifest(name: str) -> None:
    """The new block goes after the last exercise, before the milestones."""
    text = MANIFEST_PATH.read_text()
    block = "\n" + template("exercise.toml.tmpl", name)
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
    for path, file in files(name).items():
        path.write_text(template(file, name))
    print("wrote grader/manifest.toml, " + ", ".join(str(path.relative_to(ROOT)) for path in files(name)))
    print("Next: replace the examples in those four files, then `make generate` (the stub, the README tables, "
          "the Classroom workflow) and `make doctor`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
