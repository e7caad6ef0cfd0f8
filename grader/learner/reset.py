"""`make reset EX=layers [YES=1]`: put back the original stub of one exercise.

Asks first (answer y); without a terminal, or with no answer, nothing is changed. Your current file is
copied to .kata/backups/ before it is replaced, so nothing you wrote is ever lost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.core import manifest, stubs
from grader.core.manifest import EXERCISES_DIR
from grader.core.target import display_name
from grader.learner import progress


def reset(name: str, *, exercises_dir: Path = EXERCISES_DIR, yes: bool = False, stdin=None,
          out=print) -> int:
    """Restore exercises_dir/<name>.py from the generator; returns the exit status."""
    exercise = manifest.load().exercise(name)
    path = exercises_dir / exercise.module_file
    stub = stubs.expected_stubs([name])[name]
    if path.exists() and path.read_text() == stub:
        out(f"{display_name(path)} is already the original stub: nothing to do.")
        return 0
    stdin = stdin or sys.stdin
    if not yes:
        if not stdin.isatty():
            out(f"Not resetting {display_name(path)}: confirmation needs a terminal. To reset without being asked: "
                f"make reset EX={name} YES=1 (your file is backed up first).")
            return 1
        print(f"Replace {display_name(path)} with the original stub? Your version is backed up first. [y/N] ",
              end="", flush=True)
        if stdin.readline().strip().lower() not in ("y", "yes"):  # no answer, or end of input: no
            out("Nothing changed.")
            return 1
    if path.exists():
        out(f"Your version is saved as {display_name(stubs.backup(path))}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(stub)
    out(f"Restored {display_name(path)} to the original stub. Start again with `make check EX={name}`.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make reset", description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask (make reset ... YES=1 passes it)")
    parser.add_argument("--exercises-dir", type=Path, default=EXERCISES_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    kata = manifest.load()
    if args.exercise not in kata.names:  # never a default here: reset replaces a file
        print(progress.unknown_exercise(args.exercise, "reset") if args.exercise else
              f"Say which exercise. Usage: make reset EX=<name>, one of: {', '.join(kata.names)}", file=sys.stderr)
        return 2
    return reset(args.exercise, exercises_dir=args.exercises_dir, yes=args.yes)
