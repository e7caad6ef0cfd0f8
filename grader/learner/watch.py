"""`make watch [EX=layers] [TARGET=...]`: re-run the tests of what you save, every time you save.

Looks at the target's files about once a second (modification time and size, which works on every file
system, network drives and containers included). It starts with the exercise you are on (or EX). After
each save it clears the screen, names the file that changed and runs the tests of the exercise that
file belongs to, whichever it is: a change that breaks an exercise that passed before shows at once.
(Each exercise's tests use your file of that exercise only, so no other exercise can be affected.)
When the exercise you are on passes, it moves on to the next one not yet passing. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from grader.core import manifest, mode
from grader.core import target as targets
from grader.core.report import ExerciseStatus
from grader.core.runner import TargetRun, run_exercise
from grader.learner import check, progress
from grader.core.grading import ExerciseResult, classify

DEFAULT_INTERVAL = 0.2  # a look at the file times of a dozen files: microseconds
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


def changed_files(before: dict, after: dict) -> list[str]:
    """The Python files added, removed or modified between two snapshots, sorted."""
    names = set(before) | set(after)
    return sorted(n for n in names if n.endswith(".py") and before.get(n) != after.get(n))


def summarise(exercise, run: TargetRun) -> tuple[bool, str]:
    """(all passed, a few lines): passed/total, the status as `make grade` names it, the first failure."""
    result = ExerciseResult(exercise, run)
    classify(result)
    done = result.status == ExerciseStatus.DONE and run.problem is None
    lines = [f"Exercise {exercise.number}, {exercise.name}: {run.passed}/{run.total} tests pass ({result.status})"]
    if run.problem:
        lines.append(f"Problem: {run.problem}")
    if result.status in (ExerciseStatus.SYNTAX_ERROR, ExerciseStatus.IMPORT_ERROR):
        lines.append(result.detail)  # every test failed the same way: one line, not one per test
        return done, "\n".join(lines)
    failure = next((t for t in run.tests if not t.passed), None)
    if failure is not None:
        where = f" ({failure.where})" if failure.where else ""
        message = (failure.message or failure.outcome).strip()
        shown = message.splitlines()[:6]
        lines.append(f"First failure: {failure.test}{where}")
        lines += [f"  {line}" for line in shown]
    return done, "\n".join(lines)


class WarmJudge:
    """The `run` of `make watch`: a judge started before the next save, its tests collected, waiting.

    Starting pytest and collecting takes about 0.4 s on a quiet machine (seconds under load); paid between
    saves, it is off the learner's wait. The waiting judge holds no learner code and starts no worker: on
    the save it starts a fresh worker, which reads the files as saved (runner.run_exercises, gate).
    """

    def __init__(self, target_dir: Path):
        self.target_dir = target_dir
        self.waiting = None  # (exercise name, decide(run: bool), the thread that returns its result)

    def prepare(self, exercise) -> None:
        if self.waiting and self.waiting[0] == exercise.name:
            return
        self.discard()
        go, decision, result = threading.Event(), {}, {}

        def gate() -> bool:
            go.wait()
            return decision["run"]

        def decide(run: bool) -> None:
            decision["run"] = run
            go.set()

        def judge() -> None:
            result["run"] = run_exercise(exercise, [self.target_dir], gate=gate)

        thread = threading.Thread(target=judge, daemon=True)
        thread.start()
        self.waiting = (exercise.name, decide, lambda: (thread.join(), result["run"])[1])

    def discard(self) -> None:
        if self.waiting:
            self.waiting[1](False)  # it ends at once, having read nothing
            self.waiting = None

    def __call__(self, exercise, target_dirs: list[Path]) -> dict:
        if self.waiting and self.waiting[0] == exercise.name and target_dirs == [self.target_dir]:
            _, decide, result = self.waiting
            self.waiting = None
            decide(True)
            return result()
        self.discard()
        return run_exercise(exercise, target_dirs)


class Watcher:
    """The state of one `make watch`: the exercise being worked on and the exercises known to pass."""

    def __init__(self, kata, target_dir: Path, current, passing: set[str], run, out, follow: bool):
        self.kata, self.target_dir, self.current = kata, target_dir, current
        self.passing, self.run_tests, self.out, self.follow = set(passing), run, out, follow
        self.runs = 0

    def shown(self, exercise) -> str:
        return f"{targets.display_name(self.target_dir)}/{exercise.module_file}"

    def affected(self, changed: list[str]) -> list:
        """The exercises whose tests a change of these files can affect, in course order: each exercise
        whose file changed; for another Python file (a helper of yours), the exercise you are on."""
        by_file = {ex.module_file: ex for ex in self.kata.exercises}
        found = {by_file[name].name for name in changed if name in by_file}
        if any(name not in by_file for name in changed) and self.current is not None:
            found.add(self.current.name)
        return [ex for ex in self.kata.exercises if ex.name in found]

    def test(self, exercise, label: str) -> bool:
        """Run one exercise's tests, print what happened, and say whether they all pass."""
        self.out(f"{time.strftime('%H:%M:%S')}  {label}")
        problem = check.syntax_problem(exercise, self.target_dir)
        if problem:
            self.out(f"Exercise {exercise.number}, {exercise.name}: {ExerciseStatus.SYNTAX_ERROR}\n{problem}")
            done = False
        else:
            done, text = summarise(exercise, self.run_tests(exercise, [self.target_dir])[str(self.target_dir)])
            self.runs += 1
            self.out(text)
        was_passing = exercise.name in self.passing
        if done:
            self.passing.add(exercise.name)
        else:
            self.passing.discard(exercise.name)
            if was_passing:
                self.out(f"`{exercise.name}` passed before and fails now: your last change broke it.")
        return done

    def after(self, exercise):
        """The first exercise after `exercise` not known to pass, or None."""
        later = self.kata.exercises[self.kata.names.index(exercise.name) + 1:]
        return next((ex for ex in later if ex.name not in self.passing), None)

    def react(self, queue: list, labels: dict) -> None:
        """Run the queued exercises; follow the one being worked on to the next when it passes."""
        while queue:
            exercise = queue.pop(0)
            done = self.test(exercise, labels.get(exercise.name, self.shown(exercise)))
            if not done:
                self.current = exercise  # a failing exercise is the one to work on
                continue
            if self.current is None or exercise.name != self.current.name or not self.follow:
                self.out(f"`{exercise.name}` passes.")
                continue
            upcoming = self.after(exercise)
            if upcoming is None:
                self.out(f"`{exercise.name}` passes. Every exercise passes as far as this watch knows: "
                         "`make grade` grades them all and runs the milestones.")
                self.current = None
            else:
                self.out(f"`{exercise.name}` passes. Moving on to exercise {upcoming.number}, {upcoming.name}: "
                         f"{upcoming.title} ({self.shown(upcoming)}).")
                self.current = upcoming
                if all(ex.name != upcoming.name for ex in queue):
                    queue.append(upcoming)
        if self.current is not None and self.current.name not in self.passing:
            compare = "" if mode.is_release() else f", `make compare EX={self.current.name}`"
            self.out(f"Waiting for you to save... (stuck? `make hint EX={self.current.name}`{compare})")
        else:
            self.out("Waiting for you to save...")


def watch(name: str | None, target_dir: Path, *, interval: float = DEFAULT_INTERVAL, max_cycles: int | None = None,
          sleep=time.sleep, out=print, clear: bool = True, run=run_exercise, follow: bool = True,
          passing: set[str] | None = None) -> int:
    """Poll, run, report. One cycle is one look at the files; stops after max_cycles (None: never).

    name: the exercise to start with (None: run nothing until a file is saved). passing: exercises known
    to pass (from the last grade), so moving on skips them and a failure among them is called a regression.
    sleep, run and out are injectable so the loop can be tested without waiting or running pytest.
    Returns the number of test runs made.
    """
    kata = manifest.load()
    watcher = Watcher(kata, target_dir, kata.exercise(name) if name else None, passing or set(), run, out, follow)
    seen: dict | None = None
    cycle = 0
    out(f"Watching {targets.display_name(target_dir)}/ for changes (Ctrl-C to stop).")
    if watcher.current is None:
        out("Every exercise passed at your last `make grade`; saving a file re-runs its tests.")
    while max_cycles is None or cycle < max_cycles:
        cycle += 1
        current = snapshot(target_dir)
        if seen is None:
            queue = [watcher.current] if watcher.current else []
            labels = {ex.name: f"start-up, nothing saved yet: the tests of `{ex.name}` ({watcher.shown(ex)})"
                      for ex in queue}
        else:
            changed = changed_files(seen, current)
            queue = watcher.affected(changed)
            shown = ", ".join(f"{targets.display_name(target_dir)}/{name}" for name in changed)
            labels = {ex.name: f"{shown} changed: the tests of `{ex.name}`" for ex in queue}
        seen = current
        if queue:
            if clear:
                out(CLEAR, end="")
            watcher.react(queue, labels)
        if watcher.current is not None and hasattr(run, "prepare"):
            run.prepare(watcher.current)  # the next save is most likely to this exercise's file
        if max_cycles is not None and cycle >= max_cycles:
            break
        sleep(interval)
    return watcher.runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make watch", description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?", help="exercise to start with (default: the one you are on)")
    parser.add_argument("--target", default=None)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, help="seconds between looks")
    parser.add_argument("--once", action="store_true", help="run the tests once and stop")
    parser.add_argument("--max-cycles", type=int, default=None, help="stop after this many looks")
    parser.add_argument("--no-clear", action="store_true", help="do not clear the screen")
    args = parser.parse_args(argv)
    try:
        target_dir = targets.resolve(args.target)
    except targets.TargetError as error:
        print(f"make watch: {error.args[0]}", file=sys.stderr)
        return 2
    shown = targets.display_name(target_dir)
    name, note = progress.choose_exercise(args.exercise, "watch", shown)
    if name is None and args.exercise:
        print(note, file=sys.stderr)
        return 2
    max_cycles = 1 if args.once else args.max_cycles
    clear = not args.no_clear and sys.stdout.isatty()
    try:
        warm = WarmJudge(target_dir) if not args.once else run_exercise
        watch(name, target_dir, interval=args.interval, max_cycles=max_cycles, clear=clear, run=warm,
              out=lambda *a, **k: print(*a, **k, flush=True), follow=not args.once,
              passing=progress.last_done(shown) or set())
    except KeyboardInterrupt:
        print("\nStopped watching. `make grade` shows your score.")
    finally:
        if isinstance(warm, WarmJudge):
            warm.discard()
    return 0


if __name__ == "__main__":
    sys.exit(main())
