"""The learner's commands hint, check and compare: hints one at a time, check on the exercise you are on and
with a one-line syntax error, and compare naming every mistake check names, with numbers only.

Every test keeps its state in a temporary folder (KATA_STATE_DIR) and works on temporary copies, never on
the real exercises/ or .kata/.
"""

import json
import shutil
from pathlib import Path

import pytest

import numpy as np

from grader.core import sandbox, seeds
from grader.feedback import checks, diagnose
from grader.learner import check, compare, hints, progress, reset, watch
from grader.core.manifest import SOLUTIONS_DIR
from grader.maintainer.mutation import build, load_bank
from grader.core.runner import TargetRun, run_exercises
from grader.core.runner import TestResult as Outcome  # a name pytest does not try to collect
from command_support import FIRST, KATA, SECOND, fake_run, report

# The `state` fixture (tests/grader/conftest.py): each test's own KATA_STATE_DIR, no last report.
pytestmark = pytest.mark.usefixtures("state")


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
    progress.record(dict(report(done=set(KATA.names)), next="Next: the milestone `mnist` (MNIST MLP): too slow"))
    assert hints.main([]) == 0
    out = capsys.readouterr().out
    assert "Next: the milestone `mnist`" in out and "No hint needed" in out and "Hint 1 of" not in out
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
    mutant = next(m for m in load_bank(exercise) if m.name == mutant_name)
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


def test_the_judge_grades_the_reference_without_pytorch(tmp_path, monkeypatch):
    """Where the reference computes the expected values (check, watch, grade, grade-all), no test needs PyTorch:
    its import costs each judge seconds of CPU time. A PyTorch oracle belongs inside oracle.expected()."""
    marks = tmp_path / "marks"
    monkeypatch.setenv("KATA_ORACLE", "reference")
    runs = run_exercises(KATA.exercises, [SOLUTIONS_DIR], mode="judge", extra_env={"KATA_PHASES": str(marks)})
    assert all(run.passed == run.total > 0 for by_target in runs.values() for run in by_target.values())
    assert "torch" not in marks.read_text(), marks.read_text()
