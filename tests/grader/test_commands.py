"""The learner's commands: hint, compare, watch, progress and reset.

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

from grader.learner import compare, hints, progress, reset, watch
from grader.core import manifest
from grader.maintainer import stubgen
from grader.core.manifest import EXERCISES_DIR, SOLUTIONS_DIR
from grader.maintainer.mutation import build, load_mutants
from grader.core.runner import TargetRun
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
                              "max_points": ex.points, "status": "done", "tests": []})
        else:
            passed = 2 if ex.name in failing else 0
            exercises.append({"name": ex.name, "title": ex.title, "passed": passed, "total": 5,
                              "points": ex.points * passed / 5, "max_points": ex.points,
                              "status": "in progress" if passed else "not started", "tests": []})
    return {"target": "exercises", "score": sum(e["points"] for e in exercises),
            "max_score": sum(ex.points for ex in KATA.exercises), "exercises": exercises,
            "milestones": [{"name": "mnist", "status": "locked", "reason": "needs ..."}]}


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


# --- compare -------------------------------------------------------------------------------------------

def test_compare_on_the_solutions_finds_every_quantity_equal():
    status, text = compare.compare("layers", SOLUTIONS_DIR)
    assert status == 0, text
    assert "DIFFERENT" not in text and "Every quantity matches" in text
    assert "dL/dW" in text and "max abs diff" in text


def test_compare_on_a_known_mistake_shows_where_and_the_diagnosis(tmp_path):
    mutant = next(m for m in load_mutants("layers") if m.name == "bias_grad_mean")
    folder = build(mutant, "layers", tmp_path)
    status, text = compare.compare("layers", folder)
    assert status == 1
    line = next(line for line in text.splitlines() if line.startswith("dL/db"))
    assert "DIFFERENT" in line
    assert "first difference at index 0" in text and "the batch size" in text
    # Numbers only: the reference's code never appears.
    assert mutant.find not in text and mutant.replace not in text


def test_compare_on_the_stub_says_what_is_not_implemented():
    status, text = compare.compare("layers", EXERCISES_DIR)
    assert status == 1
    assert "is not implemented yet" in text and "layers.py line" in text
    assert "Traceback" not in text


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
    assert next(line for line in shown.splitlines() if line.startswith("forward Y")).endswith("same")
    assert "Stopped there: Linear.backward is not implemented yet (layers.py line" in shown
    assert "Not compared: dL/dX;" in shown


def test_compare_says_so_when_an_exercise_has_no_probe(monkeypatch):
    monkeypatch.setattr(compare, "load_probe", lambda name: None)
    status, text = compare.compare("layers", SOLUTIONS_DIR)
    assert status == 2 and "There is no probe for `layers`" in text


def test_every_probe_matches_the_reference_against_itself():
    for ex in KATA.exercises:
        if compare.load_probe(ex.name) is None or not (SOLUTIONS_DIR / ex.module_file).exists():
            continue
        status, text = compare.compare(ex.name, SOLUTIONS_DIR)
        assert status == 0, f"the probe of {ex.name} is not deterministic or fails on the reference:\n{text}"


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


# --- the Makefile passes the options through --------------------------------------------------------------

@pytest.mark.parametrize("arguments, expected", [
    (["reset", "EX=layers", "YES=1"], "-m grader reset layers --yes"),
    (["reset", "EX=layers"], "-m grader reset layers"),
    (["hint"], "-m grader hint"),
    (["compare", "EX=layers", "TARGET=solutions"], '-m grader compare layers --target "solutions"'),
    (["grade-all", "DIR=subs", "OUT=book", "MILESTONES=1"], '-m grader grade-all subs --out "book" --milestones'),
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
