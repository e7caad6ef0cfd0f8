"""Run one exercise's tests in a child process and read back what happened to each test.

The child is plain pytest with grader/core/pytest_plugin.py recording results. Whatever the learner's code
does (loop forever, raise, fail to import, call exit(), kill the interpreter), it happens in the child:
the grader turns it into a plain sentence and goes on with the next exercise.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.core.manifest import ROOT, Exercise

# The whole child may take this long beyond the per-test limits before it is killed (imports, fixtures).
CHILD_MARGIN_SECONDS = 60
MAX_CHILD_SECONDS = 600

TIMEOUT_ADVICE = "an infinite loop, or a Python loop over samples where a vectorised NumPy expression is needed"


@dataclass
class TestResult:
    test: str
    outcome: str  # passed, failed, error, timeout, crashed, skipped
    message: str = ""
    kind: str = ""
    where: str | None = None
    function: str | None = None

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

    def to_dict(self) -> dict:
        return {"target": self.target, "problem": self.problem, "tests": [asdict(t) for t in self.tests]}


def child_environment(results_path: Path, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        KATA_RESULTS=str(results_path),
        # Never write __pycache__ into a learner's or a student's folder.
        PYTHONDONTWRITEBYTECODE="1",
        # Small test arrays: one BLAS thread each avoids oversubscribing the cores when the grader
        # runs two children at once.
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    env.pop("KATA_TARGET", None)  # the child gets --target explicitly
    env.update(extra or {})
    return env


def _read_records(path: Path) -> list[dict]:
    records = []
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a killed child
    return records


def _signal_meaning(number: int) -> str:
    meanings = {
        signal.SIGXCPU: "the CPU time limit was reached: an infinite loop, or far too much work",
        signal.SIGKILL: "killed: out of memory, or over a time limit",
        signal.SIGSEGV: "a crash in native code, often from running out of memory",
        signal.SIGABRT: "aborted, often from running out of memory",
    }
    return f"signal {number}: " + meanings.get(number, "killed by the system")


def _timeout_message(seconds: float) -> str:
    return f"timed out after {seconds:g} s: {TIMEOUT_ADVICE}"


def run_exercise(exercise: Exercise, targets: list[Path], *, preexec_fn=None, extra_env=None,
                 child_seconds: float | None = None, test_file: Path | None = None) -> dict[str, TargetRun]:
    """Run the exercise's test file against each target in one child; {str(target): TargetRun}."""
    test_file = test_file or exercise.test_file
    with tempfile.TemporaryDirectory(prefix="kata-run-") as scratch:
        results_path = Path(scratch) / "results.jsonl"
        command = [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "grader.core.pytest_plugin",
                   "--no-header", "-p", "no:cacheprovider"]
        for target in targets:
            command += ["--target", str(target)]
        limit = child_seconds or min(MAX_CHILD_SECONDS, CHILD_MARGIN_SECONDS + 20 * exercise.time_limit)
        child_problem = None
        try:
            completed = subprocess.run(command, cwd=ROOT, env=child_environment(results_path, extra_env),
                                       capture_output=True, text=True, timeout=limit,
                                       preexec_fn=preexec_fn, stdin=subprocess.DEVNULL)
            output = completed.stdout + completed.stderr
            returncode = completed.returncode
        except subprocess.TimeoutExpired as expired:
            output = (expired.stdout or b"").decode(errors="replace") if isinstance(expired.stdout, bytes) \
                else (expired.stdout or "")
            returncode = None
            child_problem = f"the tests were stopped after {limit:g} s in total: {TIMEOUT_ADVICE}"
        records = _read_records(results_path)
    return _collect(exercise, targets, records, output, returncode, child_problem)


def _collect(exercise, targets, records, output, returncode, child_problem) -> dict[str, TargetRun]:
    runs = {str(t): TargetRun(target=str(t)) for t in targets}
    started, finished = [], set()
    finish = None
    collect_errors = []
    for record in records:
        event = record.get("event")
        if event == "start":
            started.append(record["nodeid"])
        elif event == "result":
            finished.add(record["nodeid"])
            outcome = record["outcome"]
            kind = record.get("kind", "")
            message = record.get("message", "")
            if kind == "timeout":
                outcome = "timeout"
                message = _timeout_message(exercise.time_limit)
            result = TestResult(test=record["test"], outcome=outcome, message=message, kind=kind,
                                where=record.get("where"), function=record.get("function"))
            run = runs.get(record.get("target") or str(targets[0]))
            if run is not None:
                run.tests.append(result)
        elif event == "collect_error":
            collect_errors.append(record["message"])
        elif event == "finish":
            finish = record["exitstatus"]

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
    unfinished = [nodeid for nodeid in started if nodeid not in finished]
    if finish is None:
        # The child died, or was killed, before the end: name the test that was running.
        if child_problem is None:
            reason = "the test process ended abruptly"
            if returncode is not None and returncode < 0:
                reason += f" ({_signal_meaning(-returncode)})"
            else:
                reason += f" (exit status {returncode}: does the code call exit() or os._exit()?)"
            child_problem = reason
        for run in runs.values():
            run.problem = run.problem or child_problem
        for nodeid in unfinished:
            name = nodeid.split("::")[-1]
            for run in runs.values():
                if len(runs) == 1 or run.target in nodeid or Path(run.target).name in name:
                    run.tests.append(TestResult(test=name, outcome="crashed", message=child_problem,
                                                kind="crash"))
                    break
    return runs
