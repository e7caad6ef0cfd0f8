"""`make stubs`: regenerate the learner's stubs in exercises/ from the reference in solutions/ (the
generator is grader/core/stubs.py). Changed files are backed up first; `make doctor` names the stale ones.
"""

from __future__ import annotations

import argparse
import sys

from grader.core import manifest
from grader.core.manifest import EXERCISES_DIR, SOLUTIONS_DIR
from grader.core.stubs import backup, expected_stubs
from grader.core.target import display_name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="exercises (default: all)")
    args = parser.parse_args(argv)
    names = args.names or [n for n in manifest.load().names if (SOLUTIONS_DIR / f"{n}.py").exists()]
    for name, text in expected_stubs(names).items():
        path = EXERCISES_DIR / f"{name}.py"
        if path.exists() and path.read_text() == text:
            continue
        if path.exists():
            print(f"kept your old exercises/{name}.py as {display_name(backup(path))}")
        path.write_text(text)
        print(f"wrote exercises/{name}.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
