"""`make watch [EX=layers] [TARGET=...]`: re-run the tests of what you save, every time you save.

Polls the target's files (modification time and size: every file system, network drives and containers
included). It starts with the exercise you are on (or EX). After each save it clears the screen, names
the file and runs the tests of the exercise it belongs to, so breaking one that passed before shows at
once. When the exercise you are on passes, it moves on to the next one not yet passing. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
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

INTERVAL = 0.1  # seconds between looks; a look at the file times of a dozen files costs microseconds


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """{relative path: (mtime in ns, size)} of the files under `folder` (caches and hidden files skipped)."""
    found = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        with contextlib.suppress(OSError):  # deleted while we looked: the next poll sees it
            if path.is_file():
                info = path.stat()
                found[str(relative)] = (info.st_mtime_ns, info.st_size)
    return found


def summarise(exercise, run: TargetRun) -> tuple[bool, str]:
    """(all passed, a few lines): passed/total, the status as `make grade` names it, the first failure."""
    result = classify(ExerciseResult(exercise, run))
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
        lines.append(f"First failure: {failure.test}{where}")
        lines += [f"  {line}" for line in (failure.message or failure.outcome).strip().splitlines()[:6]]
    return done, "\n".join(lines)


class WarmJudge:
    """The `run` of `make watch`: a judge started before the next save, its tests collected, waiting
    (starting pytest takes 0.4 s to seconds, off the learner's wait). It holds no learner code: on the save
    it starts a fresh worker, which reads the files as saved (runner.run_exercises, gate)."""

    def __init__(self, target_dir: Path):
        self.target_dir = target_dir
        self.waiting = None  # (exercise name, decide(run: bool), the thread that returns its result)

    def prepare(self, exercise) -> None:
        if self.waiting and self.waiting[0] == exercise.name:
            return
        self.discard()
        decision, result = queue.SimpleQueue(), {}  # decision: True to run on the save, False to discard

        def judge() -> None:
            result["run"] = run_exercise(exercise, [self.target_dir], gate=decision.get)

        thread = threading.Thread(target=judge, daemon=True)
        thread.start()
        self.waiting = (exercise.name, decision.put, lambda: (thread.join(), result["run"])[1])

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
            done, text = False, f"Exercise {exercise.number}, {exercise.name}: {ExerciseStatus.SYNTAX_ERROR}\n{problem}"
        else:
            done, text = summarise(exercise, self.run_tests(exercise, [self.target_dir])[str(self.target_dir)])
            self.runs += 1
        self.out(text)
        if done:
            self.passing.add(exercise.name)
        elif exercise.name in self.passing:
            self.passing.discard(exercise.name)
            self.out(f"`{exercise.name}` passed before and fails now: your last change broke it.")
        return done

    def react(self, queue: list, labels: dict) -> None:
        """Run the queued exercises; follow the one being worked on to the next when it passes."""
        while queue:
            exercise = queue.pop(0)
            if not self.test(exercise, labels.get(exercise.name, self.shown(exercise))):
                self.current = exercise  # a failing exercise is the one to work on
            elif self.current is None or exercise.name != self.current.name or not self.follow:
                self.out(f"`{exercise.name}` passes.")
            else:  # the exercise being worked on passes: on to the next one not passing
                later = self.kata.exercises[self.kata.names.index(exercise.name) + 1:]
                upcoming = self.current = next((ex for ex in later if ex.name not in self.passing), None)
                if upcoming is None:
                    self.out(f"`{exercise.name}` passes. Every exercise passes as far as this watch knows: "
                             "`make grade` grades them all and runs the milestones.")
                    continue
                self.out(f"`{exercise.name}` passes. Moving on to exercise {upcoming.number}, {upcoming.name}: "
                         f"{upcoming.title} ({self.shown(upcoming)}).")
                if all(ex.name != upcoming.name for ex in queue):
                    queue.append(upcoming)
        if self.current is not None and self.current.name not in self.passing:
            compare = "" if mode.is_release() else f", `make compare EX={self.current.name}`"
            self.out(f"Waiting for you to save... (stuck? `make hint EX={self.current.name}`{compare})")
        else:
            self.out("Waiting for you to save...")


def watch(name: str | None, target_dir: Path, *, max_cycles: int | None = None, sleep=time.sleep, out=print,
          clear: bool = True, run=run_exercise, follow: bool = True, passing: set[str] | None = None) -> int:
    """Poll, run, report; one cycle is one look at the files, up to max_cycles (None: forever). Returns the
    number of test runs. name: the exercise to start with (None: wait for a save); passing: exercises that
    passed at the last grade (moving on skips them; a failure among them is a regression)."""
    kata = manifest.load()
    watcher = Watcher(kata, target_dir, kata.exercise(name) if name else None, passing or set(), run, out, follow)
    seen, cycle = None, 0  # the last snapshot (None: before the first), the looks so far
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
            changed = sorted(n for n in set(seen) | set(current) if n.endswith(".py") and seen.get(n) != current.get(n))
            queue = watcher.affected(changed)
            shown = ", ".join(f"{targets.display_name(target_dir)}/{name}" for name in changed)
            labels = {ex.name: f"{shown} changed: the tests of `{ex.name}`" for ex in queue}
        seen = current
        if queue:
            if clear:
                out("\033[2J\033[H", end="")  # clear the screen, cursor to the top
            watcher.react(queue, labels)
        if watcher.current is not None and hasattr(run, "prepare"):
            run.prepare(watcher.current)  # the next save is most likely to this exercise's file
        if max_cycles is not None and cycle >= max_cycles:
            break
        sleep(INTERVAL)
    return watcher.runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make watch", description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?", help="exercise to start with (default: the one you are on)")
    parser.add_argument("--target", type=targets.argument, default="")
    parser.add_argument("--once", action="store_true", help="run the tests once and stop")
    parser.add_argument("--no-clear", action="store_true", help="do not clear the screen")
    args = parser.parse_args(argv)
    target_dir = args.target
    shown = targets.display_name(target_dir)
    name, note = progress.choose_exercise(args.exercise, "watch", shown)
    if name is None and args.exercise:
        print(note, file=sys.stderr)
        return 2
    warm = WarmJudge(target_dir) if not args.once else run_exercise
    try:
        watch(name, target_dir, max_cycles=1 if args.once else None,
              clear=not args.no_clear and sys.stdout.isatty(), run=warm, follow=not args.once,
              out=lambda *a, **k: print(*a, **k, flush=True), passing=progress.last_done(shown) or set())
    except KeyboardInterrupt:
        print("\nStopped watching. `make grade` shows your score.")
    finally:
        if isinstance(warm, WarmJudge):
            warm.discard()
    return 0
