"""Run exercises' tests in a judge process and read back the verdict of each test.

The child is pytest in judge mode (grader/feedback/judge_plugin.py), pytest_plugin.py recording each verdict
as it is decided; learner code runs only in the judge's sandboxed workers (judge.py), so whatever it does
costs the test it happened in, with a plain sentence.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.core import sandbox, seeds
from grader.core.judge import TIMEOUT_ADVICE, ended_abruptly, timeout_message
from grader.core.manifest import ROOT, Exercise, exercise_of_test
from grader.core.report import read_lines
from grader.core.mode import PLUGINS_OFF, WARM_VAR

# The whole child may take this long beyond the per-test limits before it is killed (imports, fixtures).
CHILD_MARGIN_SECONDS = 60
MAX_CHILD_SECONDS = 600
# A test resting only on what the worker reports (a flag, a name, an exception's class, an echoed input)
# counts this much of a test whose verdict rests on a quantity the judge computed: together they stay under
# 3% of the points (test_contract.py), all that a submission forging every observation can earn.
FACT_WEIGHT = 0.1


@dataclass
class TestResult:
    test: str
    outcome: str  # passed, failed, error, timeout, crashed, skipped
    message: str = ""
    kind: str = ""
    where: str | None = None
    part: str | None = None  # the manifest part the test is marked with (@pytest.mark.part("sgd"))
    kinds: list | None = None  # the kinds of check the judge decided it by (checks.QUANTITY_KINDS, WORKER_COMPUTABLE)
    fact: bool = False  # marked @pytest.mark.fact: rests only on what the worker reports about its own objects

    @property
    def weight(self) -> float:
        """Its share of the exercise's points: a fact-only test could be faked by a submission."""
        return FACT_WEIGHT if self.fact else 1.0

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def not_implemented(self) -> bool:
        return self.kind == "NotImplementedError"


@dataclass
class TargetRun:
    """What happened to one exercise's tests against one target."""

    target: str
    tests: list[TestResult] = field(default_factory=list)
    problem: str | None = None  # a whole-run problem: collection error, crash, child timeout

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def total(self) -> int:
        return len(self.tests)


def run_exercises(exercises: list[Exercise], targets: list[Path], *, mode: str | None = None,
                  seed: int | None = None, extra_env=None, child_seconds: float | None = None, on_progress=None,
                  gate=None) -> dict[str, dict[str, TargetRun]]:
    """Run the exercises' tests against each target in one judge process; {exercise: {target: TargetRun}}.

    mode: judge (the default for one target: learner code in sandboxed workers, verdicts here) or split
    (several targets at once, in-process: for the reference and the mutants, which are trusted code).
    on_progress(records) is called about three times a second with the records so far.
    gate: start the judge now but let it begin (start workers, read learner files) only when gate()
    returns True (`make watch`, between saves); when it returns False, the judge ends without a result.
    """
    mode = mode or ("judge" if len(targets) == 1 else "split")
    seed = seeds.current() if seed is None else seed
    with tempfile.TemporaryDirectory(prefix="kata-run-") as scratch:
        results_path = Path(scratch) / "results.jsonl"
        command = [sys.executable, "-m", "pytest", *[str(path) for ex in exercises for path in ex.test_files], "-q",
                   "-p", "grader.core.pytest_plugin", "--no-header", "--tb=line", *PLUGINS_OFF]
        for target in targets:
            command += ["--target", str(target)]
        limit = child_seconds or min(MAX_CHILD_SECONDS * len(exercises),
                                     sum(CHILD_MARGIN_SECONDS + 20 * ex.time_limit for ex in exercises))
        # No __pycache__ in a learner's folder: a split run imports the targets; a judge imports only the kata's
        # own modules, whose cached bytecode (the tests' with their asserts rewritten) it and its workers reuse.
        # BLAS threads pinned alike in every command (a loaded machine collapses otherwise); no KATA_TARGET, as
        # the child gets --target explicitly.
        env = {name: value for name, value in os.environ.items()
               if name not in ("KATA_TARGET", "PYTHONDONTWRITEBYTECODE")}
        env.update(KATA_RESULTS=str(results_path), KATA_MODE=mode, **sandbox.THREADS, **{seeds.ENV_VAR: str(seed)},
                   **({} if mode == "judge" else {"PYTHONDONTWRITEBYTECODE": "1"}))
        env.update(extra_env or {})
        output, returncode, child_problem = _run_child(
            command, env, limit, lambda: on_progress(read_lines(results_path)) if on_progress else None, gate)
        records = read_lines(results_path)
    return {ex.name: _collect(ex, targets, _records_of(ex, records), output, returncode, child_problem)
            for ex in exercises}


def _records_of(exercise: Exercise, records: list[dict]) -> list[dict]:
    """The records of one exercise's tests, and the run's end, which every exercise shares."""
    return [r for r in records if exercise_of_test(r.get("nodeid", "")) == exercise.name or r.get("event") == "finish"]


def _run_child(command, env, limit, poll, gate=None) -> tuple[str, int | None, str | None]:
    with tempfile.TemporaryFile() as log:
        # The judge dies with its parent, its memory and files bounded (judge_preexec). A gated judge waits
        # on a pipe of its own (pytest captures standard input).
        wait, tell = os.pipe() if gate else (None, None)
        process = subprocess.Popen(command, cwd=ROOT, env={**env, **({WARM_VAR: str(wait)} if gate else {})},
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=sandbox.judge_preexec, pass_fds=(wait,) if gate else ())
        if gate is not None:
            os.close(wait)
            with contextlib.suppress(OSError):  # a judge that already ended (a collection error) reads nothing
                os.write(tell, b"go" if gate() else b"stop")
            os.close(tell)
        deadline, returncode, child_problem = time.monotonic() + limit, None, None
        while returncode is None:
            try:
                returncode = process.wait(timeout=0.3)  # returns as soon as the judge ends
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    process.kill()
                    child_problem = f"the tests were stopped after {limit:g} s in total: {TIMEOUT_ADVICE}"
                    returncode = process.wait()
                elif poll is not None:
                    poll()
        log.seek(0)
        output = log.read().decode(errors="replace")
    return output, (None if child_problem else returncode), child_problem


def collect_one(exercise: Exercise, target: Path, records: list[dict]) -> TargetRun:
    """The verdicts of one exercise's tests among the records so far (for live progress)."""
    finished = _records_of(exercise, records) + [{"event": "finish", "exitstatus": 0}]
    return _collect(exercise, [target], finished, "", 0, None)[str(target)]


def run_exercise(exercise: Exercise, targets: list[Path], **options) -> dict[str, TargetRun]:
    """Run one exercise's test file against each target; {str(target): TargetRun}."""
    return run_exercises([exercise], targets, **options)[exercise.name]


def _test_result(record: dict, exercise: Exercise) -> TestResult:
    """One verdict record of pytest_plugin.py as a TestResult (time-outs and crashes in plain words)."""
    outcome, kind, message = record["outcome"], record.get("kind", ""), record.get("message", "")
    if kind == "timeout":
        outcome, message = "timeout", timeout_message(exercise.time_limit)
    elif kind == "crash":
        outcome = "crashed"
    return TestResult(test=record["test"], outcome=outcome, message=message, kind=kind, where=record.get("where"),
                      part=record.get("part"), kinds=record.get("kinds"), fact=bool(record.get("fact")))


def _collect(exercise, targets, records, output, returncode, child_problem) -> dict[str, TargetRun]:
    runs = {str(t): TargetRun(target=str(t)) for t in targets}
    started = [r["nodeid"] for r in records if r.get("event") == "start"]
    finished = {r["nodeid"] for r in records if r.get("event") == "result"}
    collect_errors = [r["message"] for r in records if r.get("event") == "collect_error"]
    for record in (r for r in records if r.get("event") == "result"):
        run = runs.get(record.get("target") or str(targets[0]))
        if run is not None:
            run.tests.append(_test_result(record, exercise))
    if collect_errors:
        problem = "the test file could not be collected: " + collect_errors[0].strip().splitlines()[-1]
        for run in runs.values():
            run.problem = problem
    if not started and not collect_errors and child_problem is None:
        # pytest itself could not start (a missing test file, bad arguments): not the learner's doing.
        tail = " ".join(output.strip().splitlines()[-3:]) or f"exit status {returncode}"
        for run in runs.values():
            run.problem = f"the tests could not start: {tail}"
        return runs
    if not any(r.get("event") == "finish" for r in records):
        # The child died, or was killed, before the end.
        child_problem = child_problem or ended_abruptly(returncode)
        for run in runs.values():
            run.problem = run.problem or child_problem
        for nodeid in [n for n in started if n not in finished]:  # the test that was running
            name = nodeid.split("::")[-1]
            for run in runs.values():
                if len(runs) == 1 or run.target in nodeid or Path(run.target).name in name:
                    run.tests.append(TestResult(test=name, outcome="crashed", message=child_problem,
                                                kind="crash"))
                    break
    return runs


# The marks a check leaves (judge.mark), in order: each row of the table is the time between two of them.
# PyTorch's import is marked when a test needs it (a student release); the worker's marks are its frames' arrival.
MARKS = ("start", "judge launched", "judge started", "collected", "worker ready", "tests done", "judge ended", "end")


def phase_table(names: list[str], target: str = "solutions") -> int:
    """Print the seconds each phase of `python -m grader check NAME` takes, for each name (bench --phases)."""
    rows = [*zip(MARKS, MARKS[1:]), ("torch import begins", "torch imported"), ("start", "end")]
    columns = []
    for name in names:
        with tempfile.NamedTemporaryFile(prefix="kata-phases-") as marks:
            times = {"start": time.monotonic()}
            subprocess.run([sys.executable, "-m", "grader", "check", name, "--target", target], cwd=ROOT,
                           env=dict(os.environ, KATA_PHASES=marks.name), capture_output=True)
            times["end"] = time.monotonic()
            for line in reversed(Path(marks.name).read_text().splitlines()):  # the first of each mark wins
                times[line.partition(" ")[2]] = float(line.partition(" ")[0])
        columns.append([f"{times[b] - times[a]:.2f}" if a in times and b in times else "-" for a, b in rows])
    print(f"seconds per phase of `python -m grader check EX --target {target}` (load average "
          f"{os.getloadavg()[0]:.1f}):\n" + " " * 40 + "".join(f"{name:>14}" for name in names))
    for row, (a, b) in enumerate(rows):
        print(f"{a} -> {b}".ljust(40) + "".join(f"{column[row]:>14}" for column in columns))
    return 0
