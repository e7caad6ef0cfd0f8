"""The learner's command watch: it reruns the tests on a save, follows the file that changed, moves on when
everything passes, and its warm judge runs the file as saved.

Every test keeps its state in a temporary folder (KATA_STATE_DIR) and works on temporary copies, never on
the real exercises/ or .kata/.
"""

import os
import shutil

import pytest

from grader.learner import watch
from grader.core.manifest import SOLUTIONS_DIR
from command_support import FIRST, SECOND, fake_run

# The `state` fixture (tests/grader/conftest.py): each test's own KATA_STATE_DIR, no last report.
pytestmark = pytest.mark.usefixtures("state")


# --- watch ---------------------------------------------------------------------------------------------


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
