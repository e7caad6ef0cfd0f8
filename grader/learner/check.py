"""`make check [EX=layers] [K=words] [TARGET=...]`: one exercise's tests, with readable failures.

Without EX it checks the exercise you are on (the first one not finished at your last `make grade`).
Exits non-zero when a test fails, so it can gate a script.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from grader.core import manifest, mode, sandbox, seeds
from grader.core import target as targets
from grader.core.manifest import ROOT, Exercise
from grader.learner import progress

# How `make check` runs an exercise's tests, and so `make compare` too (the same verdicts, the same
# numbers): judged like `make grade` (learner code in the sandboxed worker, threads pinned alike), but
# with the fixed seed, so the same mistake always prints the same numbers.
MODE = "judge"
SEED = seeds.DEFAULT_SEED


def environment() -> dict:
    return dict(os.environ, PYTHONDONTWRITEBYTECODE="1", KATA_MODE=MODE, **{seeds.ENV_VAR: str(SEED)},
                **sandbox.THREADS)


def syntax_problem(exercise: Exercise, target_dir: Path) -> str | None:
    """One line naming the file and line of a syntax error in the learner's module, else None.

    Only compiled, never run: a file that cannot be parsed would otherwise fail every test with the
    same error and a long traceback."""
    path, shown = target_dir / exercise.module_file, f"{targets.display_name(target_dir)}/{exercise.module_file}"
    try:
        source = path.read_bytes()
    except OSError:
        return None  # a missing file: the tests say how to start it
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:  # IndentationError and TabError included
        line = f" line {error.lineno}" if error.lineno else ""
        return (f"{shown}{line}: {type(error).__name__}: {error.msg}. Python cannot read the file, so none "
                f"of the tests of `{exercise.name}` can run until it is fixed.")
    except ValueError as error:  # null bytes
        return f"{shown}: {error}."
    return None


def pick(name: str | None, command: str, target_dir: Path) -> tuple[Exercise | None, str]:
    """(exercise, note) for a command whose EX may be left out; (None, problem) for an unknown EX."""
    chosen, note = progress.choose_exercise(name, command, targets.display_name(target_dir))
    return (manifest.load().exercise(chosen) if chosen else None), note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make check", description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?", help="exercise name, e.g. layers (default: the one you are on)")
    parser.add_argument("--target", type=targets.argument, default="")
    parser.add_argument("-k", dest="keyword", default=None,
                        help="only the tests whose names match, as pytest's -k (make check K=forward)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args(argv)
    target_dir = args.target
    exercise, note = pick(args.exercise, "check", target_dir)
    if exercise is None:
        print(note, file=sys.stderr)
        return 2
    print(f"Exercise {exercise.number}: {exercise.title} -- target {targets.display_name(target_dir)}"
          + (f" {note}" if note else ""))
    problem = syntax_problem(exercise, target_dir)
    if problem:
        print(problem)
        return 1
    command = [sys.executable, "-m", "pytest", *map(str, exercise.test_files), "--target", str(target_dir),
               "-q", "--no-header", "--tb=short", "-rN", *(["-k", args.keyword] if args.keyword else []),
               *args.pytest_args]
    code = subprocess.call(command, cwd=ROOT, env=environment())
    if code == 0 and args.keyword:
        print(f"The tests of `{exercise.name}` that match K={args.keyword} pass; the others did not run "
              f"(`make check EX={exercise.name}` without K runs them all).")
    elif code == 0:
        print(f"All tests of `{exercise.name}` pass. Next: `make grade` to see your progress.")
    elif code == 1:
        print(f"Stuck? `make hint EX={exercise.name}` for a hint" + ("." if mode.is_release() else
              f", `make compare EX={exercise.name}` to see your numbers next to the reference's."))
    return code
