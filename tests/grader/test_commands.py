"""The learner's commands: check, hint, compare, watch, progress and reset.

Every test keeps its state in a temporary folder (KATA_STATE_DIR) and works on temporary copies, never on
the real exercises/ or .kata/.
"""

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import numpy as np

from grader.core import manifest, sandbox, seeds
from grader.feedback import checks, diagnose
from grader.learner import check, compare, hints, progress, reset, watch
from grader.core import stubs as stubgen
from grader.core.manifest import EXERCISES_DIR, SOLUTIONS_DIR
from grader.maintainer.mutation import build, load_mutants
from grader.core.runner import TargetRun
from grader.core.report import ExerciseStatus, MilestoneStatus
from grader.core.runner import TestResult as Outcome  # a name pytest does not try to collect

KATA = manifest.load()
FIRST, SECOND = KATA.exercises[0], KATA.exercises[1]


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """A private state folder, no last report to read, and the learner's default target (`make test`
    sets KATA_TARGET=solutions for the exercise tests)."""
    folder = tmp_path / "state"
    monkeypatch.setenv(progress.STATE_ENV_VAR, str(folder))
    monkeypatch.delenv("KATA_TARGET", raising=False)
    monkeypatch.setattr(progress, "LAST_REPORT", tmp_path / "no-report.json")
    return folder


def report(done=(), failing=()):
    """A grade report of the shape grader/learner/grade.py writes, for the exercises named."""
    exercises = []
    for ex in KATA.exercises:
        if ex.name in done:
            exercises.append({"name": ex.name, "title": ex.title, "passed": 5, "total": 5, "points": ex.points,
                              "max_points": ex.points, "status": ExerciseStatus.DONE, "tests": []})
        else:
            passed = 2 if ex.name in failing else 0
            exercises.append({"name": ex.name, "title": ex.title, "passed": passed, "total": 5,
                              "points": ex.points * passed / 5, "max_points": ex.points,
                              "status": ExerciseStatus.IN_PROGRESS if passed else ExerciseStatus.NOT_STARTED,
                              "tests": []})
    return {"target": "exercises", "score": sum(e["points"] for e in exercises),
            "max_score": sum(ex.points for ex in KATA.exercises), "exercises": exercises,
            "milestones": [{"name": "mnist", "status": MilestoneStatus.LOCKED, "reason": "needs ..."}]}


# --- hints ---------------------------------------------------------------------------------------------

def test_hints_are_revealed_one_at_a_time_and_remembered(state, capsys):
    count = len(FIRST.hints)
    for number in range(1, count + 1):
        assert hints.main([FIRST.name]) == 0
        shown = capsys.readouterr().out
        assert f"Hint {number} of {count}" in shown
        assert FIRST.hints[number - 1][:40] in shown
        if number < count:
            assert f"{count - number} more hint" in shown
    assert json.loads((state / "hints.json").read_text()) == {FIRST.name: count}
    hints.main([FIRST.name])
    shown = capsys.readouterr().out
    assert f"You have seen all {count} hints" in shown and f"make compare EX={FIRST.name}" in shown


def test_hints_of_different_exercises_are_counted_separately(state, capsys):
    hints.main([FIRST.name])
    hints.main([FIRST.name])
    hints.main([SECOND.name])
    assert "Hint 1 of" in capsys.readouterr().out.split(SECOND.title)[-1]
    assert json.loads((state / "hints.json").read_text()) == {FIRST.name: 2, SECOND.name: 1}


def test_an_unknown_exercise_lists_the_exercises(capsys):
    assert hints.main(["no_such_exercise"]) == 2
    err = capsys.readouterr().err
    assert "no_such_exercise" in err and all(name in err for name in KATA.names)


def test_without_an_exercise_the_hint_is_for_the_first_unfinished_one(capsys):
    hints.main([])
    assert f"{FIRST.name}: {FIRST.title}" in capsys.readouterr().out
    progress.record(report(done={FIRST.name}))
    hints.main([])
    assert f"{SECOND.name}: {SECOND.title}" in capsys.readouterr().out


def test_hint_without_an_exercise_when_every_exercise_passes_says_so(capsys):
    progress.record(report(done=set(KATA.names)))
    assert hints.main([]) == 0
    out = capsys.readouterr().out
    assert "Every exercise passes" in out and "No hint needed" in out and "Hint 1 of" not in out
    assert hints.main([FIRST.name]) == 0 and "Hint 1 of" in capsys.readouterr().out  # asked for: still given


# --- check ---------------------------------------------------------------------------------------------

def _broken_copy(tmp_path) -> tuple[Path, int]:
    """A copy of the reference whose layers.py Python cannot parse, and the line of the error."""
    folder = tmp_path / "broken"
    shutil.copytree(SOLUTIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    module = folder / "layers.py"
    lines = module.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith("class Parameter:"))
    lines[number] = "class Parameter(\n"
    module.write_text("".join(lines))
    return folder, number + 1


def test_a_syntax_error_is_one_line_with_the_file_and_line_in_check_compare_and_watch(tmp_path, capfd):
    folder, line = _broken_copy(tmp_path)
    assert check.main(["layers", "--target", str(folder)]) == 1
    out = capfd.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 2, out
    assert f"layers.py line {line}: SyntaxError" in lines[1] and "Traceback" not in out
    status, text = compare.compare("layers", folder)
    assert status == 1 and lines[1] in text and len(text.splitlines()) == 2
    run, calls = fake_run([(0, 1)])
    printed = []
    watch.watch("layers", folder, max_cycles=1, sleep=lambda s: None, clear=False, run=run,
                out=lambda *a, **k: printed.append(" ".join(map(str, a))))
    assert calls == [] and lines[1] in "\n".join(printed)


def test_check_without_an_exercise_checks_the_one_you_are_on(monkeypatch, capfd):
    commands = []
    monkeypatch.setattr(check.subprocess, "call", lambda command, **options: commands.append(command) or 0)
    assert check.main([]) == 0
    progress.record(report(done={FIRST.name}))
    assert check.main([]) == 0
    assert str(FIRST.test_file) in commands[0] and str(SECOND.test_file) in commands[1]
    assert "the exercise you are on" in capfd.readouterr().out


def test_check_runs_only_the_tests_matching_k(monkeypatch):
    commands = []
    monkeypatch.setattr(check.subprocess, "call", lambda command, **options: commands.append(command) or 0)
    assert check.main(["layers", "-k", "forward"]) == 0
    assert commands[0][-2:] == ["-k", "forward"], commands[0]


@pytest.mark.parametrize("command", [check.main, compare.main, hints.main, reset.main, watch.main],
                         ids=["check", "compare", "hint", "reset", "watch"])
def test_a_misspelt_exercise_gets_a_did_you_mean(command, capsys):
    assert command(["layer"]) == 2
    assert "Did you mean `layers`?" in capsys.readouterr().err


# --- compare -------------------------------------------------------------------------------------------

def test_compare_on_the_solutions_finds_every_quantity_equal():
    status, text = compare.compare("layers", SOLUTIONS_DIR)
    assert status == 0, text
    assert "DIFFERENT" not in text and "Every quantity matches" in text
    assert "Linear.backward: dL/dW" in text and "max abs" in text and "first diff" in text


def _check_output(exercise: str, folder: Path, capfd) -> str:
    """What `make check EX=exercise TARGET=folder` prints (pytest's output comes through the file
    descriptors, hence capfd)."""
    capfd.readouterr()
    check.main([exercise, "--target", str(folder)])
    return capfd.readouterr().out


def _diagnoses(check_output: str) -> list[str]:
    """The lines of every failure message `make check` printed (pytest's `E   ` lines)."""
    lines = []
    for line in check_output.splitlines():
        if line.startswith("E   "):
            text = line[4:].strip()
            for prefix in ("AssertionError: ", "WorkerFailure: ", "TestPathDiverged: "):
                text = text.removeprefix(prefix)
            if text:
                lines.append(text)
    return lines


@pytest.mark.parametrize("exercise, mutant_name", [
    ("layers", "bias_grad_mean"),             # check_close: a factor of the batch size
    ("layers", "zero_grad_rebinds"),          # check_that: a property of the raw value
    ("layers", "eval_not_recursive"),         # check_equal: flags
])
def test_compare_names_every_mistake_check_names(exercise, mutant_name, tmp_path, capfd):
    mutant = next(m for m in load_mutants(exercise) if m.name == mutant_name)
    folder = build(mutant, exercise, tmp_path)
    diagnoses = _diagnoses(_check_output(exercise, folder, capfd))
    assert any(mutant.diagnosis.lower() in line.lower() for line in diagnoses), diagnoses
    status, text = compare.compare(exercise, folder)
    assert status == 1 and "DIFFERENT" in text
    missing = [line for line in diagnoses if line not in text]
    assert not missing, f"make check says what make compare does not:\n{missing}\n\n{text}"
    if mutant_name == "bias_grad_mean":
        row = next(line for line in text.splitlines() if line.strip().startswith("Linear.backward: dL/db "))
        assert row.split()[-1] == "DIFFERENT" and row.split()[-2] == "0" and "(3,)" in row  # the first index
        # Numbers only: the reference's code never appears.
        assert mutant.find not in text and mutant.replace not in text


def test_compare_shows_what_was_computed_before_the_code_raised(tmp_path):
    folder = tmp_path / "half_done"
    shutil.copytree(SOLUTIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    module = folder / "layers.py"
    text = module.read_text()
    start = text.index("self.W.grad += self._x.T @ grad_out")
    end = text.index("# </exercise>", start)
    module.write_text(text[:start] + "raise NotImplementedError('layers: Linear.backward')\n        " + text[end:])
    status, shown = compare.compare("layers", folder)
    assert status == 1
    lines = shown.splitlines()
    assert next(line for line in lines if line.strip().startswith("Linear.forward ")).endswith("same")
    not_computed = [line for line in lines if line.endswith("NOT COMPUTED")]
    assert not_computed and "NotImplementedError: layers: Linear.backward (layers.py line" in shown
    assert "Traceback" not in shown


def test_compare_relative_differences_stay_sane_where_the_reference_is_zero():
    assert diagnose.max_relative_difference(np.array([1e-3, 0.0, 2.0]), np.array([0.0, 0.0, 2.0])) <= 2.0
    assert diagnose.max_relative_difference(np.zeros(3), np.zeros(3)) == 0.0
    entry = compare.Entry("test_x", "dL/db", "close", False, "dL/db is wrong.",
                          {"array": [0.5, 0.0], "shape": [2], "dtype": "float64"},
                          {"array": [0.0, 0.0], "shape": [2], "dtype": "float64"})
    row = compare.table([entry], TargetRun(target="t", tests=[Outcome("test_x", "failed", "dL/db is wrong.")]))
    numbers = row[2].split()
    assert numbers[-4:] == ["0.5", "1", "0", "DIFFERENT"], row  # abs, rel (not 1e308), first index, verdict


def test_compare_lists_failures_that_no_quantity_carries():
    entries = [compare.Entry("test_a", "y", "close", True, None, 1.0, 1.0)]
    run = TargetRun(target="t", tests=[Outcome("test_a", "failed", message="a plain assert failed in your half"),
                                       Outcome("test_b", "timeout", message="timed out after 10 s")])
    lines = compare._unexplained(entries, run)
    assert "a plain assert failed in your half" in "\n".join(lines) and "timed out after 10 s" in "\n".join(lines)


def test_compare_runs_the_tests_as_check_does(monkeypatch):
    seen = {}

    def run_exercise(exercise, targets, **options):
        seen.update(options)
        return {str(targets[0]): TargetRun(target=str(targets[0]))}

    monkeypatch.setattr(compare.runner, "run_exercise", run_exercise)
    compare.compare("layers", SOLUTIONS_DIR)
    environment = check.environment()
    assert seen["mode"] == environment["KATA_MODE"] == "judge"
    assert str(seen["seed"]) == environment[seeds.ENV_VAR] == str(seeds.DEFAULT_SEED)
    assert checks.LEDGER_VAR in seen["extra_env"]
    assert all(environment[name] == value for name, value in sandbox.THREADS.items())


# --- watch ---------------------------------------------------------------------------------------------

def fake_run(outcomes):
    """A stand-in for runner.run_exercise returning the next TargetRun from `outcomes` (passed, total)."""
    calls = []

    def run(exercise, targets):
        passed, total = outcomes[len(calls)]
        calls.append(exercise.name)
        tests = [Outcome(f"test_{i}", "passed") for i in range(passed)]
        tests += [Outcome(f"test_fails_{i}", "failed", message="Linear.forward is wrong (relative error 1).")
                  for i in range(total - passed)]
        return {str(targets[0]): TargetRun(target=str(targets[0]), tests=tests)}

    return run, calls


def test_watch_reruns_on_a_change_and_moves_on_when_everything_passes(tmp_path):
    target = tmp_path / "mine"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    run, calls = fake_run([(3, 5), (5, 5), (0, 4)])
    printed = []
    cycles = []

    def sleep(seconds):
        cycles.append(seconds)
        if len(cycles) == 2:  # the learner saves between the second and third look
            path = target / FIRST.module_file
            path.write_text(path.read_text() + "\n# edited\n")

    runs = watch.watch(FIRST.name, target, max_cycles=5, sleep=sleep, clear=False, run=run,
                       out=lambda *a, **k: printed.append(" ".join(map(str, a))))
    text = "\n".join(printed)
    assert runs == 3 and calls == [FIRST.name, FIRST.name, SECOND.name]
    assert "3/5 tests pass" in text and "First failure: test_fails_0" in text
    assert f"Moving on to exercise {SECOND.number}, {SECOND.name}" in text
    assert len(cycles) == 4


def test_watch_runs_the_exercise_whose_file_changed_and_shows_a_regression(tmp_path):
    target = tmp_path / "mine"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    run, calls = fake_run([(0, 4), (3, 5)])  # the exercise you are on fails; then the saved one fails
    printed = []

    def sleep(seconds):
        if not calls[1:]:  # the learner edits an earlier exercise that passed, and a note
            path = target / FIRST.module_file
            path.write_text(path.read_text() + "\n# edited\n")
            (target / "notes.txt").write_text("not Python: runs nothing")

    watch.watch(SECOND.name, target, max_cycles=3, sleep=sleep, clear=False, run=run, passing={FIRST.name},
                out=lambda *a, **k: printed.append(" ".join(map(str, a))))
    text = "\n".join(printed)
    assert calls == [SECOND.name, FIRST.name]
    assert f"{target}/{FIRST.module_file} changed" in text and "notes.txt" not in text
    assert f"`{FIRST.name}` passed before and fails now" in text


def test_watch_without_changes_runs_the_tests_once(tmp_path):
    run, calls = fake_run([(1, 2)])
    watch.watch(FIRST.name, SOLUTIONS_DIR, max_cycles=4, sleep=lambda s: None, clear=False, run=run,
                out=lambda *a, **k: None)
    assert calls == [FIRST.name]


def test_watch_once_runs_the_real_tests_on_a_target(tmp_path, capsys):
    target = tmp_path / "mine"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    assert watch.main([FIRST.name, "--target", str(target), "--once", "--no-clear"]) == 0
    out = capsys.readouterr().out
    assert f"Exercise {FIRST.number}, {FIRST.name}:" in out and f"`{FIRST.name}` passes." in out


def test_a_warm_judge_runs_the_file_as_saved_after_it_was_started(tmp_path):
    """make watch starts its judge before the save: the worker it starts on the save reads the new file."""
    target = tmp_path / "mine"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    path, warm = target / FIRST.module_file, watch.WarmJudge(target)
    original = path.read_text()
    warm.prepare(SECOND)
    warm.prepare(FIRST)  # the learner moved back: the judge of SECOND ends unused
    path.write_text(original + "\nraise RuntimeError('saved after the judge was ready')\n")
    broken = warm(FIRST, [target])[str(target)]
    assert broken.total > 0 and broken.passed == 0
    assert "saved after the judge was ready" in broken.tests[0].message
    path.write_text(original)
    warm.prepare(FIRST)
    fixed = warm(FIRST, [target])[str(target)]
    assert fixed.problem is None and fixed.passed == fixed.total > 0
    warm.prepare(FIRST)
    warm.discard()


def test_watch_stops_cleanly_on_ctrl_c(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(watch, "watch", interrupted)
    assert watch.main([FIRST.name, "--target", str(SOLUTIONS_DIR)]) == 0
    assert "Stopped watching" in capsys.readouterr().out


def test_snapshot_sees_a_change_of_size_even_with_the_same_time(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text("a")
    before = watch.snapshot(tmp_path)
    stat = path.stat()
    path.write_text("ab")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert watch.snapshot(tmp_path) != before


# --- progress ------------------------------------------------------------------------------------------

def test_render_shows_points_done_exercises_and_the_next_one():
    graded = report(done={FIRST.name}, failing={SECOND.name})
    text = progress.render(graded)
    assert f"Progress [" in text and f"{graded['score']:g} / {graded['max_score']:g} points" in text
    assert f"Exercises done: 1 of {len(KATA.exercises)} ({FIRST.name})" in text
    assert f"Next: exercise {SECOND.number}, {SECOND.name}" in text and "(2/5 tests pass)" in text


def test_render_when_everything_is_done():
    text = progress.render(report(done=set(KATA.names)))
    assert "100%" in text and "Every exercise passes" in text


def test_a_failed_milestone_is_named_when_every_exercise_passes(capsys):
    graded = report(done=set(KATA.names))
    graded["milestones"] = [{"name": "mnist", "status": MilestoneStatus.FAILED, "reason": "test accuracy 85% < 90%"}]
    expected = "the milestone `mnist` failed: test accuracy 85% < 90%"
    assert expected in progress.render(graded)
    progress.record(graded)
    assert progress.main([]) == 0
    out = capsys.readouterr().out
    assert expected in out and "Every exercise passes." not in out


def test_record_keeps_a_history_that_progress_shows(state, capsys):
    progress.record(report())
    progress.record(report(done={FIRST.name}))
    lines = (state / "progress.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["done"] == [FIRST.name]
    assert progress.main([]) == 0
    out = capsys.readouterr().out
    assert "date (UTC)" in out and out.count(" / ") >= 3 and f"Next: exercise {SECOND.number}" in out


def test_progress_without_history_says_how_to_start(capsys):
    assert progress.main([]) == 0
    assert "No grades recorded yet: run `make grade`." in capsys.readouterr().out


def test_a_damaged_history_line_is_skipped(state):
    progress.record(report())
    with open(state / "progress.jsonl", "a") as handle:
        handle.write('{"cut sho')
    assert len(progress.history()) == 1


# --- reset ---------------------------------------------------------------------------------------------

class Terminal(io.StringIO):
    """A stdin that claims to be a terminal, with the learner's answer typed in."""

    def isatty(self):
        return True


@pytest.fixture
def learner_copy(tmp_path):
    folder = tmp_path / "exercises"
    folder.mkdir()
    path = folder / "layers.py"
    path.write_text("# my own work\n")
    return folder, path


def test_reset_without_a_terminal_changes_nothing(learner_copy, state):
    folder, path = learner_copy
    printed = []
    assert reset.reset("layers", exercises_dir=folder, stdin=io.StringIO("y\n"), out=printed.append) == 1
    assert path.read_text() == "# my own work\n" and "YES=1" in printed[0]
    assert not (state / "backups").exists()


@pytest.mark.parametrize("answer", ["n\n", "\n", ""])
def test_reset_answered_no_changes_nothing(learner_copy, answer, capsys):
    folder, path = learner_copy
    assert reset.reset("layers", exercises_dir=folder, stdin=Terminal(answer), out=print) == 1
    assert path.read_text() == "# my own work\n"


def test_reset_answered_yes_restores_the_stub_and_keeps_a_backup(learner_copy, state, capsys):
    folder, path = learner_copy
    assert reset.reset("layers", exercises_dir=folder, stdin=Terminal("y\n"), out=print) == 0
    assert path.read_text() == stubgen.expected_stubs(["layers"])["layers"]
    backups = list((state / "backups").iterdir())
    assert len(backups) == 1 and backups[0].read_text() == "# my own work\n"
    assert "saved as" in capsys.readouterr().out


def test_reset_with_yes_skips_the_question_and_twice_keeps_both_backups(learner_copy, state, monkeypatch):
    folder, path = learner_copy
    monkeypatch.setenv("YES", "1")
    assert reset.main(["layers", "--exercises-dir", str(folder)]) == 0
    path.write_text("# second attempt\n")
    assert reset.main(["layers", "--exercises-dir", str(folder)]) == 0
    kept = sorted(p.read_text() for p in (state / "backups").iterdir())
    assert kept == ["# my own work\n", "# second attempt\n"]


def test_reset_of_an_untouched_stub_does_nothing(tmp_path, state):
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "layers.py").write_text(stubgen.expected_stubs(["layers"])["layers"])
    printed = []
    assert reset.reset("layers", exercises_dir=folder, yes=True, out=printed.append) == 0
    assert "already the original stub" in printed[0] and not (state / "backups").exists()


def test_reset_of_an_unknown_exercise_lists_them(capsys):
    assert reset.main(["nope"]) == 2
    assert "layers" in capsys.readouterr().err


# --- stubs --------------------------------------------------------------------------------------------

def test_every_stub_starts_with_the_marker_and_does_not_point_at_the_answers():
    for ex in KATA.exercises:
        header = (EXERCISES_DIR / ex.module_file).read_text().splitlines()[:2]
        assert header[0] == stubgen.MARKER, ex.name
        assert not any("solutions" in line for line in header), header


# --- the Makefile passes the options through --------------------------------------------------------------

@pytest.mark.parametrize("arguments, expected", [
    (["reset", "EX=layers", "YES=1"], "-m grader reset layers --yes"),
    (["reset", "EX=layers"], "-m grader reset layers"),
    (["hint"], "-m grader hint"),
    (["compare", "EX=layers", "TARGET=solutions"], '-m grader compare layers --target "solutions"'),
    (["grade-all", "DIR=subs", "OUT=book", "MILESTONES=1"], '-m grader grade-all subs --out "book" --milestones'),
    (["grade-all", "DIR=subs", "JOBS=3"], " --jobs 3"),
])
def test_make_targets_call_the_commands(arguments, expected):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shown = subprocess.run(["make", "-n", *arguments], cwd=manifest.ROOT, capture_output=True, text=True,
                           env={"PATH": os.environ["PATH"]}).stdout
    last = shown.strip().splitlines()[-1]
    assert last.endswith(expected), last
    if "YES" not in " ".join(arguments) and arguments[0] == "reset":
        assert "--yes" not in last
