"""`make check EX=layers [TARGET=...]`: one exercise's tests, with readable failures.

Exits non-zero when a test fails, so it can gate a script.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from grader.core import manifest, sandbox, seeds
from grader.core import target as targets
from grader.core.manifest import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make check", description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?", help="exercise name, e.g. layers")
    parser.add_argument("--target", default=None)
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, e.g. -k forward")
    args = parser.parse_args(argv)
    kata = manifest.load()
    problem = kata.usage_problem(args.exercise, "check")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    exercise = kata.exercise(args.exercise)
    try:
        target_dir = targets.resolve(args.target)
    except targets.TargetError as error:
        print(f"make check: {error.args[0]}", file=sys.stderr)
        return 2
    print(f"Exercise {exercise.number}: {exercise.title} -- target {targets.display_name(target_dir)}")
    command = [sys.executable, "-m", "pytest", str(exercise.test_file), "--target", str(target_dir),
               "-q", "--no-header", "--tb=short", "-rN", *args.pytest_args]
    # Judged like `make grade` (learner code in the sandboxed worker, threads pinned alike), but with the
    # fixed seed, so the same mistake always prints the same numbers.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", KATA_MODE="judge", **sandbox.THREADS)
    env[seeds.ENV_VAR] = str(seeds.DEFAULT_SEED)
    code = subprocess.call(command, cwd=ROOT, env=env)
    if code == 0:
        print(f"All tests of `{exercise.name}` pass. Next: `make grade` to see your progress.")
    elif code == 1:
        print(f"Stuck? `make hint EX={exercise.name}` for a hint, `make compare EX={exercise.name}` to see "
              "your numbers next to the reference's.")
    return code


if __name__ == "__main__":
    sys.exit(main())
