"""`python -m grader COMMAND ...`: the commands behind the Makefile's targets.

Each command lives in its own module with a `main(argv) -> int`; this file only dispatches, so a
learner who mistypes gets the list of commands instead of a traceback.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

COMMANDS = {
    "grade": ("grader.learner.grade", "grade a target and say what to do next"),
    "check": ("grader.learner.check", "run one exercise's tests with readable output"),
    "hint": ("grader.learner.hints", "show the next hint for an exercise"),
    "compare": ("grader.learner.compare", "compare a target's outputs and gradients with the reference"),
    "watch": ("grader.learner.watch", "re-run the tests of the exercise whose file you save"),
    "progress": ("grader.learner.progress", "points over time"),
    "reset": ("grader.learner.reset", "restore one stub (asks first, keeps a backup)"),
    "grade-all": ("grader.instructor.gradebook", "grade every sub-folder of a directory of submissions"),
    "export": ("grader.platforms.export", "a grade report in Gradescope's or GitHub Classroom's format"),
    "bench": ("grader.maintainer.bench", "reference vs PyTorch timings"),
    "milestone": ("grader.milestones", "run one milestone on its own"),
}


# A student release ships neither the instructor's and maintainer's packages nor compare: not offered there.
COMMANDS = {name: entry for name, entry in COMMANDS.items() if any(
    Path(__file__).parent.joinpath(*entry[0].split(".")[1:]).with_suffix(end).exists() for end in ("", ".py"))}


def usage() -> str:
    lines = ["usage: python -m grader COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    return int(importlib.import_module(COMMANDS[command][0]).main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
