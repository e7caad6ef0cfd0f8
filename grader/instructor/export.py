"""`python -m grader export --format gradescope|classroom --report PATH --out PATH`: a grade report in a
course platform's format.

gradescope  Gradescope's results.json: one test per exercise ("N. name", score, max_score, status and the
            diagnosis sentences as output), the milestones as tests worth 0 of 0, the integrity, isolation,
            similarity and gradebook findings as instructor-only tests (visibility hidden, 0 of 0), the
            next step as the top-level output, and the score as the sum of the tests to 0.1.
classroom   what the GitHub Classroom grading reporter decodes from each runner: {runner id: {"version": 1,
            "status", "max_score", "tests": [...]}}, one runner per exercise worth max_score / N, each
            all or nothing, so the reporter's two totals (tests passed / N x max, and the sum of the
            scores) agree.

A report written by another version of the kata (its "kata_version") is refused with a sentence: its
exercises and points may not be this kata's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grader.core import manifest
from grader.core import report as reports
from grader.core.report import ExerciseStatus, MilestoneStatus

FORMATS = ("gradescope", "classroom")
OUTPUT_LIMIT = 6000  # characters of output per Gradescope test: the first failures say enough
FAILURES_SHOWN = 5


class ExportError(ValueError):
    """The report cannot be exported; the message says why in a sentence."""


def version_problem(report: dict) -> str | None:
    """The sentence for a report from another kata version (None when it is this kata's)."""
    theirs, ours = report.get("kata_version"), reports.kata_version()
    if not theirs:
        return "this report carries no kata_version, so it cannot be matched with this kata's exercises and points"
    if theirs != ours:
        return (f"this report was written by kata version {theirs}, but this kata is version {ours}: its exercises, "
                "tests and points may differ, so grade the submission again with this kata")
    return None


# ---- Gradescope ------------------------------------------------------------------------------------------

def _exercise_output(entry: dict) -> str:
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


def _exercise_test(entry: dict) -> dict:
    done = reports.exercise_done(entry)
    name = f"{entry.get('number', '?')}. {entry.get('name')}"
    return {"name": name, "number": str(entry.get("number", "")), "score": float(entry.get("points", 0.0)),
            "max_score": float(entry.get("max_points", 0.0)), "status": "passed" if done else "failed",
            "output": _exercise_output(entry)}


def _milestone_test(entry: dict) -> dict:
    status = entry.get("status", "")
    reason = entry.get("reason", "")
    text = f"{status}: {reason}" if reason else str(status)
    return {"name": f"Milestone: {entry.get('title') or entry.get('name')}", "score": 0.0, "max_score": 0.0,
            "status": "passed" if status == MilestoneStatus.PASSED else "failed", "output": text}


def _hidden(name: str, text: str) -> dict:
    return {"name": name, "score": 0.0, "max_score": 0.0, "visibility": "hidden", "output": text}


def _instructor_tests(report: dict, extra_problems: list[str]) -> list[dict]:
    """The findings only the instructor sees (visibility hidden, worth 0 of 0)."""
    tests = [_hidden("Instructor: isolation", report.get("isolation") or "not recorded")]
    integrity = report.get("integrity_problems")
    tests.append(_hidden("Instructor: integrity of tests/ and grader/",
                         "match the release" if not integrity else "\n".join(map(str, integrity))))
    problems = list(report.get("gradebook_problems") or []) + list(extra_problems)
    tests.append(_hidden("Instructor: grading problems", "\n".join(problems) if problems else "none"))
    similar = report.get("similar")
    tests.append(_hidden("Instructor: similarity",
                         "\n".join(similar) if similar else
                         "not computed here (one submission per container): use Gradescope's own similarity tool"))
    return tests


def to_gradescope(report: dict, *, problems: list[str] = (), milestones: bool = True) -> dict:
    """Gradescope's results.json for one report (see the module docstring)."""
    tests = [_exercise_test(entry) for entry in report.get("exercises", [])]
    if milestones:
        tests += [_milestone_test(entry) for entry in report.get("milestones", [])]
    tests += _instructor_tests(report, list(problems))
    score = round(sum(t["score"] for t in tests), 1)
    kata_score = report.get("score")
    output = report.get("next") or "The grader produced no next step."
    if kata_score is not None and abs(float(kata_score) - score) > 0.05:
        output += f"\n(Note for the instructor: the kata's own score was {kata_score}.)"
    return {"score": score, "execution_time": int(round(float(report.get("seconds") or 0))), "output": output,
            "output_format": "text", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"kata_version": report.get("kata_version"), "kata_score": kata_score,
                           "max_score": report.get("max_score")}}


def failed_gradescope(sentence: str, seconds: float = 0.0) -> dict:
    """The results.json written when grading itself failed: score 0 and the sentence saying why."""
    kata = manifest.load()
    tests = [{"name": f"{ex.number}. {ex.name}", "score": 0.0,
              "max_score": ex.points, "status": "failed", "output": "not graded: " + sentence}
             for ex in kata.exercises]
    return {"score": 0.0, "execution_time": int(round(seconds)), "output_format": "text",
            "output": f"Grading could not finish: {sentence} Nothing was scored; resubmit, and if this message "
                      "stays, tell your instructor.", "stdout_visibility": "hidden", "tests": tests}


# ---- GitHub Classroom ------------------------------------------------------------------------------------

def runner_id(name: str) -> str:
    """The runner id of an exercise: letters and digits only, as the reporter's `runners` input requires."""
    return "".join(ch for ch in name if ch.isalnum())


def classroom_result(entry: dict, *, max_score: float, count: int) -> dict:
    """One runner's result: one test worth max_score / count, all or nothing."""
    worth = round(max_score / count, 6)
    done = reports.exercise_done(entry)
    status = "pass" if done else ("error" if entry.get("status") in reports.GRADING_PROBLEMS else "fail")
    message = "all tests pass" if done else _exercise_output(entry)
    test = {"name": f"{entry.get('number', '?')}. {entry.get('name')}", "status": "pass" if done else "fail",
            "score": worth if done else 0, "message": message, "test_code": f"make check EX={entry.get('name')}",
            "filename": f"exercises/{entry.get('name')}.py", "line_no": 0, "execution_time": "0s"}
    return {"version": 1, "status": status, "max_score": worth, "tests": [test]}


def to_classroom(report: dict, *, max_score: float | None = None) -> dict:
    """{runner id: result} for every exercise of the report (see the module docstring)."""
    entries = report.get("exercises", [])
    if not entries:
        return {}
    total = float(max_score if max_score is not None else report.get("max_score") or 100)
    return {runner_id(e["name"]): classroom_result(e, max_score=total, count=len(entries)) for e in entries}


# ---- the command -----------------------------------------------------------------------------------------

def export(report: dict, fmt: str, *, max_score: float | None = None, other_version: bool = False) -> dict:
    problem = version_problem(report)
    if problem and not other_version:
        raise ExportError(problem + " (or pass --other-version to export it anyway)")
    if fmt == "gradescope":
        return to_gradescope(report)
    if fmt == "classroom":
        return to_classroom(report, max_score=max_score)
    raise ExportError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader export", description=__doc__.splitlines()[0])
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--report", required=True, help="a grade report (.grade/report.json, or one of grade-all's)")
    parser.add_argument("--out", required=True, help="where to write the exported JSON")
    parser.add_argument("--max-score", type=float, default=None,
                        help="classroom: the assignment's total points (default: the report's maximum)")
    parser.add_argument("--other-version", action="store_true",
                        help="export a report from another kata version anyway (a note says so)")
    args = parser.parse_args(argv)
    report = reports.read(Path(args.report))
    if report is None:
        print(f"export: {args.report} is not a readable grade report (missing, or not JSON).", file=sys.stderr)
        return 2
    try:
        data = export(report, args.format, max_score=args.max_score, other_version=args.other_version)
    except ExportError as error:
        print(f"export: {error}.", file=sys.stderr)
        return 2
    if version_problem(report):
        print(f"export: note: {version_problem(report)}.", file=sys.stderr)
    reports.write(data, Path(args.out))
    print(f"Wrote {args.out} ({args.format}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
