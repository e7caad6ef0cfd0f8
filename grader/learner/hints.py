"""`make hint [EX=layers]`: the next hint for an exercise, one at a time.

Hints come from grader/manifest.toml, from a nudge to nearly the code. The hints you have seen are
remembered in .kata/hints.json, so each call reveals one more. Without EX, the hint is for the exercise
you are on (the first one not finished at your last `make grade`).
"""

from __future__ import annotations

import argparse
import sys
import textwrap

from grader.core import manifest, mode
from grader.core import report as reports
from grader.learner import progress
from grader.core import target as targets

STATE_FILE = "hints.json"
LEVELS = ("a nudge", "the formula", "nearly the code")  # the first hint, those between, the last


def _path():
    return progress.state_dir() / STATE_FILE


def seen_counts() -> dict[str, int]:
    data = reports.read(_path())
    return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save(counts: dict[str, int]) -> None:
    reports.write(dict(sorted(counts.items())), _path())


def _wrap(text: str, hanging: str = "  ") -> str:
    return "\n".join(textwrap.wrap(text, width=100, initial_indent="  ", subsequent_indent=hanging,
                                   break_on_hyphens=False, break_long_words=False))


def show(name: str) -> str:
    """Reveal the next hint of `name` (remembering it) and return what to print."""
    exercise = manifest.load().exercise(name)
    counts = seen_counts()
    seen = counts.get(name, 0)
    total = len(exercise.hints)
    header = f"Exercise {exercise.number}, {exercise.name}: {exercise.title}"
    if seen >= total:
        lines = [header, f"You have seen all {total} hints for `{name}`:"]
        lines += [_wrap(f"{i}. {hint}", hanging="     ") for i, hint in enumerate(exercise.hints, 1)]
        if not mode.is_release():
            lines.append(f"No more hints. `make compare EX={name}` puts your outputs and gradients next to the "
                         "reference's, in numbers, and says where they first differ.")
        lines.append(f"(`python -m grader hint {name} --forget` starts the hints of `{name}` again.)")
        return "\n".join(lines)
    counts[name] = seen + 1
    _save(counts)
    left = total - seen - 1
    level = LEVELS[0] if seen == 0 else LEVELS[2] if seen == total - 1 else LEVELS[1]
    lines = [header, f"Hint {seen + 1} of {total} ({level}):", _wrap(exercise.hints[seen])]
    if left:
        lines.append(f"{left} more hint{'s' if left > 1 else ''}: run `make hint EX={name}` again.")
    elif not mode.is_release():
        lines.append(f"That was the last hint. Next: `make compare EX={name}` shows where your numbers differ "
                     "from the reference's.")
    return "\n".join(lines)


def _default_target() -> str:
    """The target `make grade` grades by default (KATA_TARGET or exercises), as history names it."""
    try:
        return targets.display_name(targets.resolve(None))
    except targets.TargetError:
        return "exercises"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make hint", description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?", help="exercise name (default: the one you are on)")
    parser.add_argument("--forget", action="store_true", help="forget the hints seen for this exercise")
    args = parser.parse_args(argv)
    target = _default_target()
    name, note = progress.choose_exercise(args.exercise, "hint", target)
    if name is None:
        if args.exercise:
            print(note, file=sys.stderr)
            return 2
        entries = progress.history(target)
        if entries and entries[-1].get("next"):
            print(entries[-1]["next"])  # what the last recorded grade said to do next
        print("No hint needed (by your last `make grade`); `make hint EX=<name>` still shows an exercise's hints.")
        return 0
    if args.forget:
        _save({k: v for k, v in seen_counts().items() if k != name})
        print(f"Forgot the hints seen for `{name}`; `make hint EX={name}` starts again from the first.")
        return 0
    print(show(name))
    return 0
