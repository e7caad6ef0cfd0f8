"""GitHub Classroom simulated offline: the step of each exercise writes `result=<base64 JSON>` to a temporary
GITHUB_OUTPUT, decoded as the grading reporter decodes it; its totals, computed by the rules of the
reporter's published source (classroom-resources/autograding-grading-reporter, ported in
platform_support.py), must be the report's score. The workflow template must be the generated one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from grader.core.manifest import ROOT
from grader.platforms.classroom import step as classroom
from platform_support import KATA, decode_github_output, js, kata_report, reporter_notice

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def reporter_table_total(runners: list[dict]) -> float:
    """src/aggregate-results.js with src/helpers/test-helpers.js getTestScore: passed tests / tests x max."""
    return sum(sum(t["status"] == "pass" for t in r["tests"]) / len(r["tests"]) * (r["max_score"] or 0)
               for r in runners)


def _in_course_order(runners: dict) -> list[dict]:
    return [runners[classroom.runner_id(ex.name)] for ex in KATA.exercises if classroom.runner_id(ex.name) in runners]


def test_classroom_records_the_report_score_for_a_full_and_a_partial_submission():
    full = classroom.to_classroom(kata_report({ex.name: ex.points for ex in KATA.exercises}))
    assert reporter_notice(_in_course_order(full)) == "Points 190/190"
    assert reporter_table_total(_in_course_order(full)) == 190
    assert all(isinstance(r["max_score"], int) for r in full.values())
    # The state of the issue: 187.6, which naive float shares would print as 187.60000000000002.
    points = {ex.name: ex.points for ex in KATA.exercises} | {"gradcheck": 8.4, "regularization": 9.2}
    naive = 0.0
    for ex in KATA.exercises:
        naive += points[ex.name]
    assert repr(naive) != "187.6"
    partial = _in_course_order(classroom.to_classroom(kata_report(points)))
    assert reporter_notice(partial) == "Points 187.6/190"
    core = kata_report({ex.name: ex.points for ex in KATA.exercises if not ex.stretch})
    assert reporter_notice(_in_course_order(classroom.to_classroom(core))) == f"Points {js(core['score'])}/190"
    assert reporter_table_total(_in_course_order(classroom.to_classroom(core))) == core["score"]


def test_classroom_statuses_agree_between_runner_and_test():
    report = kata_report({"layers": 10, "losses": 4})
    report["exercises"][2]["status"] = "crashed"
    runners = classroom.to_classroom(report)
    assert all(r["status"] == r["tests"][0]["status"] for r in runners.values())
    assert runners["layers"]["status"] == "pass" and runners["activations"]["status"] == "fail"
    assert runners["losses"]["status"] == "error"  # the reporter prints an error's message itself


def test_classroom_steps_print_the_diagnosis_and_write_the_report_score(tmp_path):
    report = kata_report({"layers": 10, "activations": 10, "network": 4, "autograd": 20})
    report["exercises"][4]["detail"] = "Network.backward: dL/dW is wrong; did you overwrite instead of accumulate?"
    (tmp_path / "report.json").write_text(json.dumps(report))
    output = tmp_path / "github_output"
    env = dict(os.environ, GITHUB_OUTPUT=str(output))
    logs = {}
    for ex in KATA.exercises:
        completed = subprocess.run([sys.executable, "-m", "grader.platforms.classroom.step", "--report",
                                    str(tmp_path / "report.json"), "--exercise", ex.name], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr
        logs[ex.name] = completed.stdout
    assert "overwrite instead of accumulate" in logs["network"] and "4.0 of 10 points" in logs["network"]
    assert reporter_notice(decode_github_output(output)) == f"Points {js(report['score'])}/190"


def test_a_classroom_step_without_a_report_says_why_and_scores_zero(tmp_path):
    output = tmp_path / "github_output"
    completed = subprocess.run([sys.executable, "-m", "grader.platforms.classroom.step", "--report",
                                str(tmp_path / "missing.json"), "--exercise", "layers"],
                               cwd=ROOT, env=dict(os.environ, GITHUB_OUTPUT=str(output)), capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0
    (result,) = decode_github_output(output)
    assert result["status"] == "error" == result["tests"][0]["status"] and result["tests"][0]["score"] == 0
    assert result["max_score"] == 10 and "no report" in result["tests"][0]["message"]


def test_the_classroom_workflow_is_shaped_as_the_reporter_requires():
    from grader.platforms.classroom import workflow

    text = workflow.render()
    template = ROOT / "grader" / "platforms" / "classroom" / "classroom.yml"
    assert template.read_text() == text, "regenerate: python -m grader.platforms.classroom.workflow " \
                                         "--out grader/platforms/classroom/classroom.yml"
    assert "\nname: Autograding Tests\n" in text and "\n  run-autograding-tests:\n" in text
    assert text.count("\n  run") == 1  # one job only
    runners = [classroom.runner_id(ex.name) for ex in KATA.exercises]
    assert f"runners: {','.join(runners)}\n" in text
    for runner in runners:
        assert runner.isalnum()
        assert f"id: {runner}\n" in text
        assert f'{runner.upper()}_RESULTS: "${{{{steps.{runner}.outputs.result}}}}"' in text
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in text
    assert "autograding-command-grader" not in text  # plain run: steps (the command grader is all or nothing)
    chosen = workflow.render(["layers", "optim"])
    assert "runners: layers,optim\n" in chosen and "--only layers,optim" in chosen
