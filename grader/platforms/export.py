"""`python -m grader export --format gradescope|classroom --report PATH --out PATH`: a grade report in a
course platform's format.

gradescope  Gradescope's results.json: one test per exercise (named without its number, which Gradescope
            shows from "number"; score, max_score, status and the diagnosis as output), the milestones that
            ran as tests worth 0 of 0 (a locked one is listed in the output, not failed), the MNIST accuracy
            and the speed ratio on the leaderboard, the instructor's findings as hidden tests, the next
            step (and the progress over previous submissions) as the top-level output, and the score as
            the sum of the tests to 0.1.
classroom   what GitHub Classroom's grading reporter reads from each runner (grader/platforms/classroom/step.py).

A report written by another version of the kata (its "kata_version") is refused with a sentence: its
exercises and points may not be this kata's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.core import manifest
from grader.core import report as reports
from grader.core.report import MilestoneStatus
from grader.platforms.classroom.step import exercise_output, to_classroom

def version_problem(report: dict) -> str | None:
    """The sentence for a report from another kata version (None when it is this kata's)."""
    theirs, ours = report.get("kata_version"), reports.kata_version()
    if not theirs:
        return "this report carries no kata_version, so it cannot be matched with this kata's exercises and points"
    if theirs != ours:
        return (f"this report was written by kata version {theirs}, but this kata is version {ours}: its exercises, "
                "tests and points may differ, so grade the submission again with this kata")
    return None


def _exercise_test(entry: dict) -> dict:
    done = reports.exercise_done(entry)
    return {"name": f"{entry.get('name')}: {entry.get('title')}", "number": str(entry.get("number", "")),
            "score": float(entry.get("points", 0.0)), "max_score": float(entry.get("max_points", 0.0)),
            "status": "passed" if done else "failed", "output": exercise_output(entry)}


def _milestone_test(entry: dict) -> dict:
    status, reason = entry.get("status", ""), entry.get("reason", "")
    return {"name": f"Milestone: {entry.get('title') or entry.get('name')}", "score": 0.0, "max_score": 0.0,
            "status": "passed" if status == MilestoneStatus.PASSED else "failed",
            "output": f"{status}: {reason}" if reason else str(status)}


def _leaderboard(milestones: list[dict]) -> list[dict]:
    """The MNIST accuracy and the speed ratio of the milestones that measured them."""
    by_name = {m.get("name"): m for m in milestones}
    board = []
    if isinstance(by_name.get("mnist", {}).get("test_accuracy"), (int, float)):
        board.append({"name": "MNIST test accuracy (%)", "value": round(100 * by_name["mnist"]["test_accuracy"], 2)})
    if isinstance(by_name.get("speed", {}).get("ratio"), (int, float)):
        board.append({"name": "Training step / PyTorch's", "value": by_name["speed"]["ratio"], "order": "asc"})
    return board


def progress_line(previous: list[dict], score: float, max_score: float) -> str:
    """One line of progress from Gradescope's previous_submissions (submission_metadata.json), oldest first."""
    scores = [float(s["score"]) for s in previous if isinstance(s, dict) and isinstance(s.get("score"), (int, float))]
    if not scores:
        return ""
    shown = " -> ".join(f"{s:g}" for s in scores[-9:])
    change = score - scores[-1]
    return (f"Your progress: {'... -> ' if len(scores) > 9 else ''}{shown} -> {score:g} (this one) of {max_score:g} "
            f"points; {change:+g} since your last submission.")


def _hidden(name: str, text: str) -> dict:
    return {"name": name, "score": 0.0, "max_score": 0.0, "visibility": "hidden", "output": text}


def _instructor_tests(report: dict) -> list[dict]:
    """The findings only the instructor sees (visibility hidden, worth 0 of 0)."""
    integrity, similar = report.get("integrity_problems"), report.get("similar")
    problems = report.get("gradebook_problems")
    return [_hidden("Instructor: isolation", report.get("isolation") or "not recorded"),
            _hidden("Instructor: integrity of tests/ and grader/",
                    "match the release" if not integrity else "\n".join(map(str, integrity))),
            _hidden("Instructor: grading problems", "\n".join(problems) if problems else "none"),
            _hidden("Instructor: similarity", "\n".join(similar) if similar else
                    "not computed here (one submission per container): use Gradescope's own similarity tool")]


def to_gradescope(report: dict, *, milestones: bool = True, previous: list[dict] = ()) -> dict:
    """Gradescope's results.json for one report (see the module docstring)."""
    milestones_of = report.get("milestones", [])
    ran = [m for m in milestones_of if m.get("status") in (MilestoneStatus.PASSED, MilestoneStatus.FAILED)]
    locked = [m.get("name") for m in milestones_of if m.get("status") == MilestoneStatus.LOCKED]
    tests = [_exercise_test(entry) for entry in report.get("exercises", [])]
    tests += [_milestone_test(entry) for entry in ran] if milestones else []
    tests += _instructor_tests(report)
    score = round(sum(t["score"] for t in tests), 1)
    kata_score = report.get("score")
    lines = [report.get("next") or "The grader produced no next step.",
             progress_line(list(previous), score, float(report.get("max_score") or 0))]
    if milestones and locked:
        lines.append(f"Milestones not unlocked yet (finish the exercises they need): {', '.join(locked)}.")
    if kata_score is not None and abs(float(kata_score) - score) > 0.05:
        lines.append(f"(Note for the instructor: the kata's own score was {kata_score}.)")
    data = {"score": score, "execution_time": int(round(float(report.get("seconds") or 0))),
            "output": "\n".join(line for line in lines if line), "output_format": "text",
            "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"kata_version": report.get("kata_version"), "kata_score": kata_score,
                           "max_score": report.get("max_score")}}
    board = _leaderboard(ran) if milestones else []
    return {**data, "leaderboard": board} if board else data


def failed_gradescope(sentence: str, seconds: float = 0.0) -> dict:
    """The results.json written when grading itself failed: score 0 and the sentence saying why."""
    tests = [{"name": f"{ex.name}: {ex.title}", "number": str(ex.number), "score": 0.0, "max_score": ex.points,
              "status": "failed", "output": "not graded: " + sentence} for ex in manifest.load().exercises]
    return {"score": 0.0, "execution_time": int(round(seconds)), "output_format": "text",
            "output": f"Grading could not finish: {sentence} Nothing was scored; resubmit, and if this message "
                      "stays, tell your instructor.", "stdout_visibility": "hidden", "tests": tests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader export", description=__doc__.splitlines()[0])
    parser.add_argument("--format", required=True, choices=("gradescope", "classroom"))
    parser.add_argument("--report", required=True, help="a grade report (.grade/report.json, or one of grade-all's)")
    parser.add_argument("--out", required=True, help="where to write the exported JSON")
    parser.add_argument("--other-version", action="store_true",
                        help="export a report from another kata version anyway (a note says so)")
    args = parser.parse_args(argv)
    report = reports.read(Path(args.report))
    problem = "it is not a readable grade report (missing, or not JSON)" if report is None else version_problem(report)
    if problem and (report is None or not args.other_version):
        anyway = " (or pass --other-version to export it anyway)." if report else "."
        print(f"export: {args.report}: {problem}{anyway}", file=sys.stderr)
        return 2
    if problem:
        print(f"export: note: {problem}.", file=sys.stderr)
    data = to_gradescope(report) if args.format == "gradescope" else to_classroom(report)
    reports.write(data, Path(args.out))
    print(f"Wrote {args.out} ({args.format}).")
    return 0
