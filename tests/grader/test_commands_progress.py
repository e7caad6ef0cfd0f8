"""The learner's commands progress and reset, the stubs' header, and the Makefile passing options through:
progress renders points and history, reset restores a stub only when asked and keeps a backup.

Every test keeps its state in a temporary folder (KATA_STATE_DIR) and works on temporary copies, never on
the real exercises/ or .kata/.
"""

import io
import json
import os
import shutil
import subprocess

import pytest

from grader.core import grading, manifest
from grader.learner import progress, reset
from grader.core import stubs as stubgen
from grader.core.manifest import EXERCISES_DIR
from grader.core.report import MilestoneStatus
from command_support import FIRST, KATA, SECOND, Outcome, TargetRun, report

# The `state` fixture (tests/grader/conftest.py): each test's own KATA_STATE_DIR, no last report.
pytestmark = pytest.mark.usefixtures("state")


# --- progress ------------------------------------------------------------------------------------------

def test_render_shows_points_and_done_exercises():
    graded = report(done={FIRST.name}, failing={SECOND.name})
    text = progress.render(graded)
    assert "Progress [" in text and f"{graded['score']:g} / {graded['max_score']:g} points" in text
    assert f"Exercises done: 1 of {len(KATA.exercises)} ({FIRST.name})" in text
    assert "100%" in progress.render(report(done=set(KATA.names)))


def test_the_next_step_names_a_failed_milestone_once_every_exercise_passes(capsys):
    results = [grading.ExerciseResult(ex, TargetRun("t", [Outcome("test_a", "passed")])) for ex in KATA.exercises]
    failed = [{"name": "mnist", "title": "MNIST MLP", "status": MilestoneStatus.FAILED,
               "reason": "test accuracy 85% < 90%"}]
    assert grading.next_step(results, failed) == "Next: the milestone `mnist` (MNIST MLP): test accuracy 85% < 90%"
    assert "Every exercise and milestone passes" in grading.next_step(results, [])


def test_record_keeps_a_history_that_progress_shows_with_its_next_step(state, capsys):
    progress.record(report())
    progress.record(dict(report(done={FIRST.name}), next=f"Next: exercise {SECOND.number}, `{SECOND.name}`."))
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


def test_reset_with_yes_skips_the_question_and_twice_keeps_both_backups(learner_copy, state):
    folder, path = learner_copy
    assert reset.main(["layers", "--yes", "--exercises-dir", str(folder)]) == 0
    path.write_text("# second attempt\n")
    assert reset.main(["layers", "-y", "--exercises-dir", str(folder)]) == 0
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
