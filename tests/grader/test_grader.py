"""The grader under stress: learner code that hangs, raises, does not parse, returns NaN, mutates its
input, or kills the interpreter costs its own exercise and nothing else, with a plain sentence.

Each case grades a copy of solutions/ with one broken module, for two exercises: the broken one and one
built on top of it (which must still pass, because its tests use the reference for other modules).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core import manifest
from grader.core.report import write as write_report
from grader.core.manifest import ROOT, SOLUTIONS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

BROKEN = {
    "hangs": ("append", "\n\ndef _forever(self, x):\n    while True:\n        pass\n\n\nLinear.forward = _forever\n"),
    "raises_at_import": ("prepend", "raise RuntimeError('broken on purpose')\n"),
    "syntax_error": ("append", "\n\ndef broken(:\n    pass\n"),
    "returns_nan": ("append", "\n\ndef _nan(self, x):\n    self._x = x\n"
                              "    return np.full((x.shape[0], self.W.data.shape[1]), np.nan)\n\n\n"
                              "Linear.forward = _nan\n"),
    "mutates_input": ("append", "\n\n_forward = Linear.forward\n\n\ndef _mutating(self, x):\n"
                                "    y = _forward(self, x)\n    x *= 2.0\n    return y\n\n\n"
                                "Linear.forward = _mutating\n"),
    "exits_at_import": ("prepend", "import os\nos._exit(3)\n"),
}

EXPECTED = {
    "hangs": ("timed out", "infinite loop"),
    "raises_at_import": ("import error", "broken on purpose"),
    "syntax_error": ("syntax error", "layers.py"),
    "returns_nan": ("in progress", "is NaN in every entry"),
    "mutates_input": ("in progress", "modified its input"),
    "exits_at_import": ("crashed", "exit"),
}


def broken_target(tmp_path: Path, case: str) -> Path:
    folder = tmp_path / case
    shutil.copytree(SOLUTIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    how, code = BROKEN[case]
    layers = folder / "layers.py"
    text = layers.read_text()
    layers.write_text(code + text if how == "prepend" else text + code)
    return folder


def grade(*args, test_timeout="3", timeout=600):
    """Run `python -m grader grade` in a child. A short per-test limit keeps the hanging case quick;
    3 s still leaves a cold first test (imports on a fresh machine) plenty of room."""
    environment = dict(os.environ)
    if test_timeout is not None:
        environment["KATA_TEST_TIMEOUT"] = test_timeout
    environment.pop("KATA_TARGET", None)
    return subprocess.run([sys.executable, "-m", "grader", "grade", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.nightly
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_module_costs_only_its_own_exercise(tmp_path, case):
    report_path = tmp_path / "report.json"
    target = broken_target(tmp_path, case)
    completed = grade("--target", str(target), "--only", "layers,activations", "--no-milestones",
                      "--report", str(report_path))
    assert completed.returncode == 0, f"the grade run itself failed:\n{completed.stdout}\n{completed.stderr}"
    report = json.loads(report_path.read_text())
    by_name = {e["name"]: e for e in report["exercises"]}
    status, phrase = EXPECTED[case]
    layers = by_name["layers"]
    assert layers["status"] == status, f"{case}: status {layers['status']!r}, detail {layers['detail']!r}"
    messages = layers["detail"] + " ".join(t["message"] for t in layers["tests"])
    assert phrase.lower() in messages.lower(), f"{case}: no plain explanation containing {phrase!r}: {messages[:500]}"
    assert layers["points"] < layers["max_points"]
    activations = by_name["activations"]
    assert activations["status"] == "done", (
        f"{case}: a broken layers.py cost the activations exercise points: {activations['detail']}"
    )


def test_grading_a_missing_folder_says_so_and_exits_2(tmp_path):
    completed = grade("--target", str(tmp_path / "nowhere"))
    assert completed.returncode == 2
    assert "does not exist" in completed.stderr


def test_grading_a_folder_without_exercise_files_says_so(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing to grade")
    completed = grade("--target", str(tmp_path))
    assert completed.returncode == 2
    assert "none of the exercise files" in completed.stderr


@pytest.mark.nightly
def test_a_submission_without_one_module_loses_only_that_exercise(tmp_path):
    target = tmp_path / "partial"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "init.py").unlink()
    report_path = tmp_path / "report.json"
    completed = grade("--target", str(target), "--only", "init,layers", "--no-milestones",
                      "--report", str(report_path))
    assert completed.returncode == 0, completed.stderr
    by_name = {e["name"]: e for e in json.loads(report_path.read_text())["exercises"]}
    assert by_name["init"]["points"] == 0
    assert "has no init.py" in by_name["init"]["detail"]
    assert by_name["layers"]["status"] == "done"


@pytest.mark.nightly
def test_untouched_exercises_score_zero_lock_the_milestones_and_point_to_the_first_exercise(tmp_path):
    report_path = tmp_path / "report.json"
    completed = grade("--target", "exercises", "--report", str(report_path), test_timeout=None)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(report_path.read_text())
    assert report["score"] == 0
    assert {e["status"] for e in report["exercises"]} == {"not started"}
    assert all(m["status"] == "locked" and m["missing"] for m in report["milestones"])
    first = manifest.load().exercises[0].name
    assert f"`{first}`" in report["next"] and f"make check EX={first}" in report["next"]
    assert f"make check EX={first}" in completed.stdout
    for key in ("target", "score", "max_score", "exercises", "milestones", "data_checksums"):
        assert key in report, f"the report lacks {key!r}"
    for exercise in report["exercises"]:
        assert {"name", "passed", "total", "points", "max_points", "status", "tests"} <= set(exercise)


def test_the_report_is_replaced_atomically(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old")
    write_report({"score": 1}, path)
    assert json.loads(path.read_text()) == {"score": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"], "a temporary file was left behind"


def test_exercises_and_milestones_grade_one_snapshot_whose_hash_the_report_names(tmp_path, monkeypatch):
    """A file saved while `make grade` runs must not be graded by the milestones and not by the tests."""
    from grader.core import grading

    target = tmp_path / "mine"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    seen = {}

    def exercises_then_an_edit(kata, graded, names, say, **options):
        seen["exercises"] = (graded, (graded / "layers.py").read_text())
        (target / "layers.py").write_text("# edited while the tests ran\n")
        return []

    def milestones(kata, graded, results, out_dir, **options):
        seen["milestones"] = (graded, (graded / "layers.py").read_text())
        return []

    monkeypatch.setattr(grading, "grade_exercises", exercises_then_an_edit)
    monkeypatch.setattr(grading, "grade_milestones", milestones)
    original = (SOLUTIONS_DIR / "layers.py").read_text()
    report = grading.grade_target(manifest.load(), target, [], milestones=True, quick=True, say=print,
                                  milestone_dir=tmp_path / "out", seed=1)
    assert seen["exercises"] == seen["milestones"] and seen["milestones"][1] == original
    assert seen["exercises"][0] != target, "the graded copy is not the learner's live folder"
    (target / "layers.py").write_text(original)
    assert report["snapshot_sha256"] == grading.files_hash(target) and report["target_path"] == str(target)


def test_a_quiet_grade_prints_nothing_of_a_milestones_own_output(tmp_path, monkeypatch, capfd):
    """make grade --quiet, and a class's grades (whose parallel submissions would interleave their training
    logs), drop what a milestone prints; its result is kept."""
    from grader.core import grading, milestone_cache

    monkeypatch.setattr(milestone_cache, "cached", lambda *_, **__: None)  # run it, not a stored result
    monkeypatch.setattr(milestone_cache, "store", lambda *_, **__: None)
    result = grading.run_milestone(manifest.load().milestone("speed"), SOLUTIONS_DIR, tmp_path, True,
                                   grading.quiet, seed=1)
    captured = capfd.readouterr()
    assert result["status"] == "passed", result
    assert captured.out == "" and captured.err == "", captured
