"""One runner of the GitHub Classroom workflow: one exercise's result for the autograding grading reporter.

    python -m grader.platforms.classroom.step --report .grade/report.json --exercise layers

reads the report that the workflow's grade step wrote, prints the exercise's points and diagnosis (the
reporter shows a failing test's name only, so this step's log is where the student reads why), and appends
`result=<base64 JSON>` to the file named by $GITHUB_OUTPUT (or prints it when that is unset).

The format is what the reporter (classroom-resources/autograding-grading-reporter) decodes from each runner:
{"version": 1, "status", "max_score", "tests": [one test]}, one runner per exercise. Its max_score is the
manifest's points (an integer) and its test's score the exercise's points, so the total the reporter sends
to Classroom ("Points X/Y", src/notify-classroom.js: the sum of the tests' scores over the sum of the
max_scores) is the report's score and maximum. Runner and test share one status: "pass" (every test
passed), "error" (the exercise could not be graded) or "fail". The reporter's console table counts passed
tests (src/helpers/test-helpers.js), so there an unfinished exercise shows 0, and the points it earned
show in this step's log and in the total.

This file imports only grader/core: a student release ships it as .github/classroom/step.py (run as
`PYTHONPATH=. python .github/classroom/step.py ...`, it has no grader/platforms/). A missing or
unreadable report, or one without the exercise, gives status "error", score 0 and the sentence why. The exit
status is always 0: the reporter, not this step, turns failures red.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import sys
from pathlib import Path

from grader.core import manifest
from grader.core import report as reports
from grader.core.report import ExerciseStatus

OUTPUT_LIMIT = 6000  # characters of a test's output: the first failures say enough
FAILURES_SHOWN = 5


def exercise_output(entry: dict) -> str:
    """What the learner reads under one exercise: the status, its sentence, then each failing test's diagnosis."""
    lines = [f"{entry.get('passed', 0)}/{entry.get('total', 0)} tests passed: {entry.get('status', '')}."]
    if entry.get("detail") and entry.get("status") != ExerciseStatus.DONE:
        lines.append(str(entry["detail"]))
    failures = [t for t in entry.get("tests", []) if t.get("outcome") != "passed"]
    for test in failures[:FAILURES_SHOWN]:
        where = f" ({test['where']})" if test.get("where") else ""
        message = (test.get("message") or test.get("outcome") or "").strip()
        lines.append(f"\n- {test.get('test')}{where}:\n{message}")
    if len(failures) > FAILURES_SHOWN:
        lines.append(f"\n... and {len(failures) - FAILURES_SHOWN} more failing tests.")
    text = "\n".join(lines)
    return text if len(text) <= OUTPUT_LIMIT else text[: OUTPUT_LIMIT - 4] + " ..."


def runner_id(name: str) -> str:
    """The runner id of an exercise: letters and digits only, as the reporter's `runners` input requires."""
    return "".join(ch for ch in name if ch.isalnum())


def _adding_exactly(total: float, target: float) -> float:
    """The score that, added to the float total, gives exactly the float target: the reporter adds the
    scores in JavaScript doubles, and 0.1-point shares summed naively print as 99.99999999999999."""
    score = target - total
    while total + score != target:
        score = math.nextafter(score, math.inf if total + score < target else -math.inf)
    return score


def classroom_result(entry: dict, score: float) -> dict:
    """One runner's result: the exercise's points out of the manifest's, one test, one status."""
    ex = manifest.load().exercise(entry["name"])
    done = reports.exercise_done(entry)
    status = "pass" if done else "error" if entry.get("status") in reports.GRADING_PROBLEMS else "fail"
    test = {"name": f"{ex.number}. {ex.name}", "status": status, "score": score,
            "test_code": f"make check EX={ex.name}", "message": "all tests pass" if done else exercise_output(entry),
            "filename": f"exercises/{ex.module_file}", "line_no": 0, "execution_time": "0s"}
    return {"version": 1, "status": status, "max_score": int(ex.points), "tests": [test]}


def to_classroom(report: dict) -> dict:
    """{runner id: result} for every exercise of the report, in course order (the order of the workflow's
    runners, in which the reporter adds them up)."""
    results, total, subtotal = {}, 0.0, 0.0
    for entry in report.get("exercises", []):
        subtotal = round(subtotal + float(entry.get("points", 0.0)), 1)
        score = _adding_exactly(total, subtotal)
        total += score
        results[runner_id(entry["name"])] = classroom_result(entry, score)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.platforms.classroom.step",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--report", required=True, help="the report written by the workflow's grade step")
    parser.add_argument("--exercise", required=True, help="the exercise this runner reports")
    args = parser.parse_args(argv)
    report = reports.read(Path(args.report))
    why = "the grade step wrote no report (see its log above)" if report is None else "the report does not have it"
    missing = {"exercises": [{"name": args.exercise, "status": ExerciseStatus.ERROR, "detail": f"not graded: {why}"}]}
    result = to_classroom(report or {}).get(runner_id(args.exercise)) or to_classroom(missing)[runner_id(args.exercise)]
    line = f"result={base64.b64encode(json.dumps(result).encode()).decode()}\n"
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a") as handle:
            handle.write(line)
    else:
        sys.stdout.write(line)
    test = result["tests"][0]
    print(f"{test['name']}: {test['status']}, {test['score']:.1f} of {result['max_score']} points\n{test['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
