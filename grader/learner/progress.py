"""`make progress`: your points over time, and the progress bar `make grade` prints.

Every `make grade` appends one line to the history in .kata/progress.jsonl (`record`) and prints the bar
(`render`). The history lives in .kata/ (not in git, beside the hints seen and `make reset`'s backups);
set KATA_STATE_DIR to keep it elsewhere.
"""

from __future__ import annotations

import argparse
import difflib
import json
import time
from pathlib import Path

from grader.core import manifest
from grader.core import report as reports
from grader.core import target as targets
from grader.core.manifest import ROOT
from grader.core.report import ExerciseStatus, exercise_done
from grader.core.stubs import state_dir

HISTORY_FILE = "progress.jsonl"
LAST_REPORT = ROOT / ".grade" / "report.json"
BAR_WIDTH = 30


def history_path() -> Path:
    return state_dir() / HISTORY_FILE


def summary(report: dict) -> dict:
    """The one line of history kept for a grade report."""
    exercises = report.get("exercises", [])
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "target": str(report.get("target", "")),
            "score": float(report.get("score", 0.0)), "max_score": float(report.get("max_score", 0.0)),
            "done": [e["name"] for e in exercises if exercise_done(e)],
            "points": {e["name"]: float(e.get("points", 0.0)) for e in exercises},
            "milestones": {m["name"]: m.get("status") for m in report.get("milestones", [])},
            "next": str(report.get("next") or "")}  # what `make grade` said to do next (grading.next_step)


def record(report: dict) -> None:
    """Append a summary of this grade to the history (called by `make grade` after each grade)."""
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(summary(report)) + "\n")


def history(target: str | None = None) -> list[dict]:
    """The recorded grades, oldest first; only those of `target` (a display name) when given."""
    return [entry for entry in reports.read_lines(history_path())
            if isinstance(entry, dict) and (target is None or entry.get("target") == target)]


def last_done(target: str = "exercises") -> set[str] | None:
    """The exercises done at the last grade of `target` (a display name), or None if it was never graded."""
    entries = history(target)
    if entries:
        return set(entries[-1].get("done", []))
    report = reports.read(LAST_REPORT)  # a grade from before the history, or with another KATA_STATE_DIR
    if isinstance(report, dict) and report.get("target") == target:  # a display name (grading.grade_target)
        return {e.get("name") for e in report.get("exercises", []) if exercise_done(e)}
    return None


def unknown_exercise(name: str, command: str) -> str:
    """The sentence for `make <command> EX=<name>` with a name that is not an exercise: the nearest name
    ("did you mean layers?") when there is one, and the list."""
    names = manifest.load().names
    near = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    guess = f" Did you mean `{near[0]}`? (make {command} EX={near[0]})" if near else ""
    return f"There is no exercise called {name!r}.{guess}\nThe exercises are: {', '.join(names)}."


def choose_exercise(name: str | None, command: str, target: str = "exercises") -> tuple[str | None, str]:
    """(exercise, note) for a command whose EX is optional: EX when it names an exercise, else the one
    the learner is on; (None, sentence) when EX is unknown or every exercise already passes."""
    if name:
        return (name, "") if name in manifest.load().names else (None, unknown_exercise(name, command))
    done = last_done(target) or set()  # never graded: the first exercise
    current = next((exercise for exercise in manifest.load().exercises if exercise.name not in done), None)
    if current is None:
        return None, (f"Every exercise passed at your last `make grade` of {target}. Name one to {command} it "
                      f"again: make {command} EX=<name>, one of: {', '.join(manifest.load().names)}.")
    return current.name, f"(the exercise you are on; `make {command} EX=<name>` picks another)"


def render(report: dict) -> str:
    """The bar with the points and the exercises done: `make grade` prints it before what to do next (the
    report's "next", grading.next_step), `make progress` before the "next" it kept."""
    score = float(report.get("score", 0.0))
    maximum = float(report.get("max_score", 0.0)) or 1.0
    exercises = report.get("exercises", [])
    done = [e["name"] for e in exercises if exercise_done(e)]
    filled = int(round(min(max(score / maximum, 0.0), 1.0) * BAR_WIDTH))
    bar = "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]"
    return (f"Progress {bar} {score:g} / {maximum:g} points ({100 * score / maximum:.0f}%)\n"
            f"Exercises done: {len(done)} of {len(exercises)}" + (f" ({', '.join(done)})" if done else ""))


def render_history(entries: list[dict], limit: int = 20) -> str:
    """A table of the last `limit` grades: date, score, exercises done."""
    if not entries:
        return "No grades recorded yet: run `make grade`."
    lines = [f"{'date (UTC)':<17}  {'score':>15}  done"]
    for entry in entries[-limit:]:
        when = str(entry.get("time", "?")).replace("T", " ").rstrip("Z")[:16]
        score = f"{entry.get('score', 0):g} / {entry.get('max_score', 0):g}"
        done = entry.get("done", [])
        lines.append(f"{when:<17}  {score:>15}  {len(done):>2}  {', '.join(done)}")
    if len(entries) > limit:
        lines.insert(1, f"... {len(entries) - limit} older grades not shown")
    return "\n".join(lines)


def render_latest(entry: dict) -> str:
    """The bar and the next step of a history line, as `make grade` printed them."""
    bar_lines = render({"score": entry.get("score", 0.0), "max_score": entry.get("max_score", 0.0),
                        "exercises": [{"name": name, "status": ExerciseStatus.DONE if name in entry.get("done", [])
                                       else ExerciseStatus.FAILING} for name in entry.get("points", {})]})
    return "\n\n".join(filter(None, [bar_lines, entry.get("next")]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make progress", description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=targets.argument, default="", help="whose history (default: exercises)")
    parser.add_argument("--all", action="store_true", help="every recorded grade, of every target")
    args = parser.parse_args(argv)
    label = targets.display_name(args.target)
    entries = history(None if args.all else label)
    print(f"Grades of {'every target' if args.all else label} (history in {targets.display_name(history_path())}):")
    print(render_history(entries))
    if entries:
        print("\n" + render_latest(entries[-1]))
    return 0
