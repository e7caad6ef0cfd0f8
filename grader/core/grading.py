"""The grading engine every command shares: grade one target's exercises (judged, on a fresh seed), run the
milestones they unlock, and build the report. `make grade`, `make grade-all`, Gradescope and Classroom all
call `grade_target`. The exercises' tests run in a judge process (runner.py) and each milestone in a child of
its own, killed after its manifest `time_limit` (its result cached: milestone_cache.py), so a hang or a crash
costs that exercise or milestone only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from grader.core import integrity, milestone_cache, mode, policy, runner, sandbox, seeds
from grader.core import report as reports
from grader.core import target as targets
from grader.core.manifest import ROOT, Exercise, Milestone, exercise_of_test
from grader.core.report import ExerciseStatus as Status, MilestoneStatus
from grader.core.runner import TargetRun

ADVISORY_SENTENCE = ("Advisory grading (a student release, without the reference): your code is checked against "
                     "PyTorch, finite differences and closed forms; your instructor's grade is the one that counts.")
IMPORT_FAILURES = dict.fromkeys(("SyntaxError", "IndentationError", "TabError"), Status.SYNTAX_ERROR)
IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError")


@dataclass
class ExerciseResult:
    exercise: Exercise
    run: TargetRun
    status: Status | str = ""
    detail: str = ""
    parts: dict[str, dict] = field(default_factory=dict)
    forfeited: bool = False  # a forbidden import (grader/core/policy.py): no points whatever the tests say

    @property
    def done(self) -> bool:
        run = self.run
        return not self.forfeited and run.total > 0 and run.passed == run.total and run.problem is None

    @property
    def points(self) -> float:
        """The exercise's points times the weighted share of passed tests (runner.FACT_WEIGHT)."""
        if self.run.total == 0 or self.forfeited:
            return 0.0
        earned = sum(t.weight for t in self.run.tests if t.passed)
        return round(self.exercise.points * earned / sum(t.weight for t in self.run.tests), 1)

    def to_dict(self) -> dict:
        ex = self.exercise
        return {"name": ex.name, "number": ex.number, "title": ex.title, "stretch": ex.stretch,
                "passed": self.run.passed, "total": self.run.total, "points": self.points, "max_points": ex.points,
                "status": self.status, "detail": self.detail, "parts": self.parts, "problem": self.run.problem,
                "tests": [{"test": t.test, "outcome": t.outcome, "message": t.message, "kind": t.kind,
                           "where": t.where} for t in self.run.tests]}

    def line(self) -> str:
        """The exercise's line in `make grade`'s running list."""
        ex = self.exercise
        return f"  {ex.number:>2}. {ex.name:<15} {self.run.passed:>3}/{self.run.total:<3} {self.status}"


def classify(result: ExerciseResult) -> ExerciseResult:
    """Set status and a one-sentence detail from the test outcomes; returns the result."""
    run, tests = result.run, result.run.tests
    failures = [t for t in tests if not t.passed]
    if run.problem and not tests:
        result.status, result.detail = Status.ERROR, run.problem
    elif any(t.outcome == "crashed" for t in tests):
        crashed = next(t for t in tests if t.outcome == "crashed")
        result.status, result.detail = Status.CRASHED, f"{crashed.test}: {crashed.message}"
    elif not tests:
        result.status, result.detail = Status.ERROR, "no tests ran"
    elif not failures:
        result.status, result.detail = Status.DONE, ""
    elif len(failures) == len(tests) and all(t.not_implemented for t in failures):
        result.status, result.detail = Status.NOT_STARTED, "every function still raises NotImplementedError"
    elif (len(failures) == len(tests) and len({t.message for t in failures}) == 1
          and all(t.outcome == "error" or t.kind in IMPORT_FAILURES or t.kind in IMPORT_ERRORS for t in failures)):
        # Every test failed while setting up, with the same error: the module cannot be imported.
        first = failures[0]
        result.status = IMPORT_FAILURES.get(first.kind, Status.IMPORT_ERROR)
        where = f" ({first.where})" if first.where else ""
        result.detail = f"{result.exercise.name}.py cannot be imported: {first.message}{where}"
    elif any(t.outcome == "timeout" for t in failures):
        slow = next(t for t in failures if t.outcome == "timeout")
        result.status, result.detail = Status.TIMED_OUT, f"{slow.test} {slow.message}"
    else:
        first = failures[0]
        result.status = Status.IN_PROGRESS if run.passed else Status.FAILING
        # The first two lines: what is wrong, and the diagnosis of the likely mistake.
        summary = " ".join(first.message.splitlines()[:2]) if first.message else first.outcome
        result.detail = f"{first.test}: {summary}"
    for part in result.exercise.parts:
        in_part = [t for t in tests if t.part == part]
        result.parts[part] = {"passed": sum(t.passed for t in in_part), "total": len(in_part),
                              "done": bool(in_part) and all(t.passed for t in in_part)}
    return result


def grade_exercises(kata, target_dir: Path, names: list[str], say, *, seed: int, worker_env: dict | None = None,
                    wall_seconds: float | None = None) -> list[ExerciseResult]:
    """Every chosen exercise judged in one process (learner code in sandboxed workers) on the grading run's
    seed; each exercise's line is printed, in course order, as soon as it is decided."""
    chosen = [ex for ex in kata.exercises if ex.name in names]
    shown: list[str] = []

    def progress(records: list[dict]) -> None:
        started = {exercise_of_test(r["nodeid"]) for r in records if r.get("event") == "start"}
        finished = any(r.get("event") == "finish" for r in records)
        for index, exercise in enumerate(chosen):
            later = {ex.name for ex in chosen[index + 1:]}
            if exercise.name not in shown and (finished or started & later):
                shown.append(exercise.name)
                result = classify(ExerciseResult(exercise, runner.collect_one(exercise, target_dir, records)))
                say(result.line())

    runs = runner.run_exercises(chosen, [target_dir], mode="judge", seed=seed,
                                extra_env=worker_env, on_progress=progress, child_seconds=wall_seconds)
    results = []
    for exercise in chosen:
        result = classify(ExerciseResult(exercise, runs[exercise.name][str(target_dir)]))
        if exercise.name not in shown:
            say(result.line())
        results.append(result)
    return results


def need_met(need: str, results: dict[str, ExerciseResult]) -> bool:
    name, _, part = need.partition(".")
    result = results.get(name)
    return result is not None and (result.parts.get(part, {}).get("done", False) if part else result.done)


def quiet(*_, **__) -> None:
    """`say` that prints nothing: a milestone's own output is then dropped too (make grade --quiet, a class's
    grades, where parallel submissions would interleave their training logs)."""


def run_milestone(milestone: Milestone, target_dir: Path, out_dir: Path, quick: bool, say, seed: int) -> dict:
    """One milestone in a child process (`python -m grader milestone`), or its cached result when the
    learner files it uses and the kata are unchanged since it last passed (grader/core/milestone_cache.py).
    seed: the grading run's seed, for the milestones that draw their inputs from it (the speed ones)."""
    hit = milestone_cache.cached(milestone.name, target_dir, quick=quick)
    if hit is not None:
        say("   (unchanged since it last ran: the stored result; change a file it uses to run it again)")
        return hit
    limit = milestone.time_limit
    with tempfile.TemporaryDirectory(prefix="kata-milestone-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "grader", "milestone", milestone.name, "--target", str(target_dir),
                   "--out", str(out_dir), "--result", str(result_file)] + (["--quick"] if quick else [])
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", **sandbox.THREADS,
                   **{seeds.ENV_VAR: str(seed)})
        started = time.perf_counter()
        try:
            completed = subprocess.run(command, cwd=ROOT, env=env, timeout=limit, stdin=subprocess.DEVNULL,
                                       stdout=(subprocess.DEVNULL if say is quiet else None),
                                       stderr=(subprocess.DEVNULL if say is quiet else None),
                                       preexec_fn=sandbox.judge_preexec)
        except subprocess.TimeoutExpired:
            return {"status": MilestoneStatus.FAILED,
                    "reason": f"stopped after {limit:g} s, the milestone's time limit: training is far too "
                              "slow (a Python loop over samples?) or never ends"}
        elapsed = time.perf_counter() - started
        result = reports.read(result_file) or {
            "status": MilestoneStatus.FAILED,
            "reason": f"the milestone process ended without a result (exit status {completed.returncode}): did "
                      "the code call exit(), or run out of memory?"}
    result.setdefault("wall_seconds", round(elapsed, 1))
    milestone_cache.store(milestone.name, target_dir, result, quick=quick)
    return result


def grade_milestones(kata, target_dir, results, out_dir, *, enabled, quick, say, seed) -> list[dict]:
    by_name = {r.exercise.name: r for r in results}
    reports = []
    for milestone in kata.milestones:
        missing = [need for need in milestone.needs if not need_met(need, by_name)]
        entry = {"name": milestone.name, "title": milestone.title, "stretch": milestone.stretch,
                 "needs": list(milestone.needs)}
        if missing:
            entry.update(status=MilestoneStatus.LOCKED, reason="needs all tests passing in: " + ", ".join(missing),
                         missing=missing)
        elif not enabled:
            entry.update(status=MilestoneStatus.NOT_RUN, reason="milestones were not run (--no-milestones)")
        else:
            say(f"\n== Milestone: {milestone.title} ==")
            entry.update(run_milestone(milestone, target_dir, out_dir, quick, say, seed))
            say(f"-> {entry['status']}: {entry.get('reason', '')}")
        reports.append(entry)
    return reports


def next_step(results: list[ExerciseResult], milestones: list[dict]) -> str:
    pending = [r for r in results if not r.done]
    core = [r for r in pending if not r.exercise.stretch] or pending
    if core:
        result, ex = core[0], core[0].exercise
        lines = [f"Next: exercise {ex.number}, `{ex.name}` ({ex.title})."]
        if result.status == Status.NOT_STARTED:
            lines.append(f"Open exercises/{ex.name}.py, read the docstrings, replace the first "
                         f"`raise NotImplementedError`, then run `make check EX={ex.name}`.")
        else:
            lines += [f"{result.status}: {result.detail}", f"Run `make check EX={ex.name}` for every failure in full."]
        lines.append(f"Stuck? `make hint EX={ex.name}` (one hint at a time)"
                     + ("." if mode.is_release() else f" or `make compare EX={ex.name}`."))
        return "\n".join(lines)
    m = next((m for m in milestones if m["status"] in (MilestoneStatus.FAILED, MilestoneStatus.NOT_RUN)), None)
    if m is not None:
        return f"Next: the milestone `{m['name']}` ({m['title']}): {m.get('reason', '')}"
    if mode.is_release():
        return "Every exercise and milestone passes here. Your instructor's grade is the one that counts."
    return "Every exercise and milestone passes. Well done: compare your code with solutions/ to see another way."


def table(results: list[ExerciseResult], milestones: list[dict]) -> str:
    """The exercises' table of `make grade`, then the milestones'."""
    rows = [[r.exercise.number, r.exercise.name + (" (stretch)" if r.exercise.stretch else ""),
             f"{r.run.passed}/{r.run.total}", f"{r.points:g}/{r.exercise.points:g}", r.status] for r in results]
    milestone_rows = [[m["name"] + (" (stretch)" if m["stretch"] else ""), m["status"], m.get("reason", "")]
                      for m in milestones]
    return (tabulate(rows, headers=["#", "exercise", "tests", "points", "status"], tablefmt="simple") + "\n\n"
            + tabulate(milestone_rows, headers=["milestone", "status", "why"], tablefmt="simple",
                       maxcolwidths=[None, None, 70]))


def _sources(folder: Path) -> list[Path]:
    """A submission's .py files, relative to it (no symlinks, which could point into another submission)."""
    return [path.relative_to(folder) for path in sorted(folder.rglob("*.py")) if path.is_file()
            and not path.is_symlink() and "__pycache__" not in path.relative_to(folder).parts]


def files_hash(folder: Path) -> str:
    """The SHA-256 of a submission's .py files (names and contents): resume reuses a row only when equal."""
    digest = hashlib.sha256()
    for relative in _sources(folder):
        digest.update(relative.as_posix().encode() + b"\0" + (folder / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def copy_sources(source: Path, destination: Path) -> None:
    """A private copy of a submission's .py files."""
    destination.mkdir(parents=True)
    for relative in _sources(source):
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, destination / relative)


def snapshot(target_dir: Path, scratch: Path) -> tuple[Path, str]:
    """(copy, hash): the target's Python files copied once, at the start of a grading run, and their hash.
    The exercise tests and the milestones all grade this copy, so a file saved while `make grade` runs
    cannot be graded by one and not the other; the report names the hash of what was graded."""
    os.chmod(scratch, 0o755)  # where workers run as another user (no namespaces), they must read it
    copy = scratch / target_dir.name
    copy_sources(target_dir, copy)
    return copy, files_hash(copy)


def grade_target(kata, target_dir: Path, names: list[str], *, milestones: bool, quick: bool, say,
                 milestone_dir: Path, seed: int | None = None, worker_env: dict | None = None,
                 wall_seconds: float | None = None) -> dict:
    """Grade the exercises (judged, fresh seed) and the milestones they unlock, all on one snapshot of the
    target's files; return the report dict."""
    from grader.data import mnist  # imported when grading, not when a command only needs the report's types

    started = time.perf_counter()
    seed = seeds.fresh() if seed is None else seed  # one per grading run: exercises and milestones
    try:
        checksums, data_problem = mnist.verify(), None
    except Exception as error:  # DataError and friends: reported, not fatal for the unit tests
        checksums, data_problem = {}, str(error)
    with tempfile.TemporaryDirectory(prefix="kata-snapshot-") as scratch:
        graded, digest = snapshot(target_dir, Path(scratch))
        results = grade_exercises(kata, graded, names, say, seed=seed, worker_env=worker_env,
                                  wall_seconds=wall_seconds)
        policy.apply(results, graded)
        milestone_entries = grade_milestones(kata, graded, results, milestone_dir, enabled=milestones,
                                             quick=quick, say=say, seed=seed)
    core = [r for r in results if not r.exercise.stretch]
    return {
        "format": reports.REPORT_FORMAT, "kata_version": reports.kata_version(),
        "target": targets.display_name(target_dir), "target_path": str(target_dir), "snapshot_sha256": digest,
        "score": round(sum(r.points for r in results), 1), "max_score": sum(r.exercise.points for r in results),
        "core_score": round(sum(r.points for r in core), 1), "core_max_score": sum(r.exercise.points for r in core),
        "exercises": [r.to_dict() for r in results], "milestones": milestone_entries,
        "isolation": ADVISORY_SENTENCE if mode.is_release() else sandbox.isolation().sentence,
        "tamper_proof": sandbox.isolation().tamper_proof and not mode.is_release(),
        "data_checksums": checksums, "data_problem": data_problem, "integrity_problems": integrity.check(),
        "next": next_step(results, milestone_entries), "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.perf_counter() - started, 1), "table": table(results, milestone_entries),
    }
