"""`make watch [EX=layers] [TARGET=...]`: re-run an exercise's tests every time you save.

Looks at the target's files about once a second (modification time and size, which works on every file
system, network drives and containers included). After each change it clears the screen, runs the
current exercise's tests and shows how many pass and the first failure. When every test passes it moves
on to the next exercise. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from grader.core import manifest
from grader.learner import progress
from grader.core import target as targets
from grader.core.runner import run_exercise

DEFAULT_INTERVAL = 0.75
CLEAR = "\033[2J\033[H"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """{relative path: (mtime in ns, size)} of the files under `folder` (caches and hidden files skipped)."""
    found = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        try:
            if path.is_file():
                info = path.stat()
                found[str(relative)] = (info.st_mtime_ns, info.st_size)
        except OSError:
            continue  # deleted while we looked; the next poll sees it
    return found


def summarise(exercise, run) -> tuple[bool, str]:
    """(all passed, a few lines): passed/total and the first failure."""
    lines = [f"Exercise {exercise.number}, {exercise.name}: {run.passed}/{run.total} tests pass"]
    done = run.total > 0 and run.passed == run.total and run.problem is None
    if run.problem:
        lines.append(f"Problem: {run.problem}")
    failure = next((t for t in run.tests if not t.passed), None)
    if failure is not None:
        where = f" ({failure.where})" if failure.where else ""
        message = (failure.message or failure.outcome).strip()
        shown = message.splitlines()[:6]
        lines.append(f"First failure: {failure.test}{where}")
        lines += [f"  {line}" for line in shown]
    return done, "\n".join(lines)


def watch(name: str, target_dir: Path, *, interval: float = DEFAULT_INTERVAL, max_cycles: int | None = None,
          sleep=time.sleep, out=print, clear: bool = True, run=run_exercise, follow: bool = True) -> int:
    """Poll, run, report. One cycle is one look at the files; stops after max_cycles (None: never).

    sleep, run and out are injectable so the loop can be tested without waiting or running pytest.
    Returns the number of test runs made.
    """
    kata = manifest.load()
    exercise = kata.exercise(name)
    seen: dict | None = None
    pending = True  # run once at start, then after every change
    runs = 0
    cycle = 0
    out(f"Watching {targets.display_name(target_dir)}/ for changes (Ctrl-C to stop).")
    while max_cycles is None or cycle < max_cycles:
        cycle += 1
        current = snapshot(target_dir)
        if seen is not None and current != seen:
            pending = True
        seen = current
        if pending:
            pending = False
            if clear:
                out(CLEAR, end="")
            out(f"{time.strftime('%H:%M:%S')}  {targets.display_name(target_dir)}/{exercise.module_file}")
            result = run(exercise, [target_dir])[str(target_dir)]
            runs += 1
            done, text = summarise(exercise, result)
            out(text)
            if done:
                upcoming = _after(kata, exercise) if follow else None
                if upcoming is None:
                    tail = " That was the last exercise: `make grade` runs the milestones." if follow else ""
                    out(f"`{exercise.name}` passes.{tail}")
                else:
                    out(f"`{exercise.name}` passes. Moving on to exercise {upcoming.number}, {upcoming.name}: "
                        f"{upcoming.title} ({targets.display_name(target_dir)}/{upcoming.module_file}).")
                    exercise = upcoming
                    pending = True
            else:
                out(f"Waiting for you to save... (stuck? `make hint EX={exercise.name}`, "
                    f"`make compare EX={exercise.name}`)")
        if max_cycles is not None and cycle >= max_cycles:
            break
        sleep(interval)
    return runs


def _after(kata, exercise):
    names = kata.names
    index = names.index(exercise.name)
    return kata.exercises[index + 1] if index + 1 < len(names) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make watch", description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?", help="exercise to start with (default: the one you are on)")
    parser.add_argument("--target", default=None)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, help="seconds between looks")
    parser.add_argument("--once", action="store_true", help="run the tests once and stop")
    parser.add_argument("--max-cycles", type=int, default=None, help="stop after this many looks")
    parser.add_argument("--no-clear", action="store_true", help="do not clear the screen")
    args = parser.parse_args(argv)
    kata = manifest.load()
    try:
        target_dir = targets.resolve(args.target)
    except targets.TargetError as error:
        print(f"make watch: {error.args[0]}", file=sys.stderr)
        return 2
    name = args.exercise or progress.current_exercise(targets.display_name(target_dir))
    if name not in kata.names:
        print(f"There is no exercise called {name!r}; one of: {', '.join(kata.names)}", file=sys.stderr)
        return 2
    max_cycles = 1 if args.once else args.max_cycles
    clear = not args.no_clear and sys.stdout.isatty()
    try:
        watch(name, target_dir, interval=args.interval, max_cycles=max_cycles, clear=clear,
              out=lambda *a, **k: print(*a, **k, flush=True), follow=not args.once)
    except KeyboardInterrupt:
        print("\nStopped watching. `make grade` shows your score.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
