"""One runner of the GitHub Classroom workflow: one exercise's result for the autograding grading reporter.

    python -m grader.platforms.classroom.step --report .grade/report.json --exercise layers --max-score 100

reads the report that the workflow's grade step wrote and appends `result=<base64 JSON>` to the file named
by $GITHUB_OUTPUT (or prints it when that is unset), in the reporter's format: {"version": 1, "status",
"max_score", "tests": [{"name", "status", "score", "message", ...}]}. The exercise is worth
max_score / N (N: the exercises in the report, or --count), all or nothing, so the reporter's two totals
agree. A missing or unreadable report, or one without the exercise, gives status "error", score 0 and the
sentence why. The exit status is always 0: the reporter, not this step, turns failures red.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path

from grader.core import manifest
from grader.core import report as reports
from grader.instructor import export


def result_for(report: dict | None, exercise: str, *, max_score: float, count: int | None) -> dict:
    kata = manifest.load()
    entries = (report or {}).get("exercises") or []
    n = count or len(entries) or len(kata.exercises)
    entry = next((e for e in entries if e.get("name") == exercise), None)
    if entry is not None:
        return export.classroom_result(entry, max_score=max_score, count=n)
    why = ("the grade step wrote no report (see its log above)" if report is None
           else f"the report has no exercise {exercise!r}")
    ex = kata.exercise(exercise)
    worth = round(max_score / n, 6)
    test = {"name": f"{ex.number}. {ex.name}", "status": "error", "score": 0, "message": f"not graded: {why}",
            "test_code": f"make check EX={ex.name}", "filename": f"exercises/{ex.name}.py", "line_no": 0,
            "execution_time": "0s"}
    return {"version": 1, "status": "error", "max_score": worth, "tests": [test]}


def encode(result: dict) -> str:
    return base64.b64encode(json.dumps(result).encode()).decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.platforms.classroom.step", description=__doc__.splitlines()[0])
    parser.add_argument("--report", required=True, help="the report written by the workflow's grade step")
    parser.add_argument("--exercise", required=True, help="the exercise this runner reports")
    parser.add_argument("--max-score", type=float, required=True, help="the assignment's total points")
    parser.add_argument("--count", type=int, default=None, help="how many runners share max-score (default: all)")
    args = parser.parse_args(argv)
    result = result_for(reports.read(Path(args.report)), args.exercise, max_score=args.max_score, count=args.count)
    line = f"result={encode(result)}\n"
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a") as handle:
            handle.write(line)
    else:
        sys.stdout.write(line)
    test = result["tests"][0]
    print(f"{test['name']}: {test['status']} ({test['score']:g} of {result['max_score']:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
