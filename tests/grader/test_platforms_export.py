"""`python -m grader export`: a kata report turned into Gradescope's results.json, refused when it comes from
another kata version; the milestones' numbers on the leaderboard; earlier submissions from the metadata."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.core.manifest import ROOT
from grader.platforms import export
from platform_support import KATA, assert_valid, kata_report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_export_refuses_a_report_from_another_kata_version(tmp_path):
    report = dict(kata_report({"layers": 10}), kata_version="0000000000000000")
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    completed = subprocess.run([sys.executable, "-m", "grader", "export", "--format", "gradescope", "--report",
                                str(path), "--out", str(tmp_path / "out.json")], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 2 and "kata version 0000000000000000" in completed.stderr
    assert not (tmp_path / "out.json").exists()


def test_export_gradescope_sums_the_tests_to_the_report_score(tmp_path):
    report = kata_report({"layers": 10, "activations": 2.5, "optim": 20})
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    completed = subprocess.run([sys.executable, "-m", "grader", "export", "--format", "gradescope", "--report",
                                str(path), "--out", str(tmp_path / "out.json")], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "out.json").read_text())
    assert_valid(results)
    assert results["score"] == report["score"] == 32.5


def test_gradescope_puts_the_milestones_numbers_on_the_leaderboard_and_no_locked_one_among_the_tests():
    report = dict(kata_report({ex.name: ex.points for ex in KATA.exercises}), milestones=[
        {"name": "mnist", "title": "MNIST", "status": "passed", "test_accuracy": 0.97312, "reason": "97.31%"},
        {"name": "speed", "title": "Speed", "status": "failed", "ratio": 3.125, "reason": "3.1x PyTorch's"},
        {"name": "cnn", "title": "A CNN", "status": "locked", "reason": "needs conv"}])
    results = export.to_gradescope(report, previous=[{"score": 40.0}, {"score": 150.5}])
    assert_valid(results)
    assert results["leaderboard"] == [{"name": "MNIST test accuracy (%)", "value": 97.31},
                                      {"name": "Training step / PyTorch's", "value": 3.125, "order": "asc"}]
    names = [t["name"] for t in results["tests"]]
    assert "Milestone: MNIST" in names and "Milestone: Speed" in names and "Milestone: A CNN" not in names
    assert "not unlocked yet" in results["output"] and "cnn" in results["output"]
    assert "Your progress: 40 -> 150.5 -> 190 (this one) of 190 points; +39.5 since" in results["output"]
    quiet = export.to_gradescope(dict(report, milestones=[]))
    assert "leaderboard" not in quiet and "progress" not in quiet["output"]


def test_gradescope_reads_the_previous_submissions_from_the_metadata(tmp_path):
    from grader.platforms.gradescope import autograde

    assert autograde.previous_submissions(tmp_path) == []
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"previous_submissions": [
        {"submission_time": "2026-03-02T10:00:00", "score": 30.0}, {"submission_time": "2026-03-01T10:00:00",
                                                                     "score": 10.0}]}))
    assert [p["score"] for p in autograde.previous_submissions(tmp_path)] == [10.0, 30.0]
