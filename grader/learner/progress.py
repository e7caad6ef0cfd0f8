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
from grader.core.report import ExerciseStatus, MilestoneStatus, exercise_done
from grader.core.stubs import state_dir

HISTORY_FILE = "progress.jsonl"
LAST_REPORT = ROOT / ".grade" / "report.json"
BAR_WIDTH = 30


def history_path() -> Path:
    return state_dir() / HISTORY_FILE


def _target_label(report: dict) -> str:
    label = str(report.get("target", ""))
    try:
        return targets.display_name(Path(label).resolve()) if label not in targets.NAMED_TARGETS else label
    except (OSError, ValueError):
        return label


def summary(report: dict) -> dict:
    """The one line of history kept for a grade report."""
    exercises, milestones = report.get("exercises", []), report.get("milestones", [])
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "target": _target_label(report),
            "score": float(report.get("score", 0.0)), "max_score": float(report.get("max_score", 0.0)),
            "done": [e["name"] for e in exercises if exercise_done(e)],
            "points": {e["name"]: float(e.get("points", 0.0)) for e in exercises},
            "milestones": {m["name"]: m.get("status") for m in milestones},
            "milestone_reasons": {m["name"]: m.get("reason", "") for m in milestones
                                  if m.get("status") == MilestoneStatus.FAILED}}


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


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(round(fraction * width))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def next_exercise(done: set[str] | list[str]):
    """The first exercise of the manifest that is not done, or None when all are."""
    return next((exercise for exercise in manifest.load().exercises if exercise.name not in done), None)


def last_done(target: str = "exercises") -> set[str] | None:
    """The exercises done at the last grade of `target` (a display name), or None if it was never graded."""
    entries = history(target)
    if entries:
        return set(entries[-1].get("done", []))
    report = reports.read(LAST_REPORT)  # a grade from before the history, or with another KATA_STATE_DIR
    if isinstance(report, dict) and _target_label(report) == target:
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
    current = next_exercise(last_done(target) or ())  # never graded: the first exercise
    if current is None:
        return None, (f"Every exercise passed at your last `make grade` of {target}. Name one to {command} it "
                      f"again: make {command} EX=<name>, one of: {', '.join(manifest.load().names)}.")
    return current.name, f"(the exercise you are on; `make {command} EX=<name>` picks another)"


def render(report: dict, advice: bool = False, upcoming_line: bool = True) -> str:
    """A few lines for the end of `make grade`: the bar with points, the exercises done, what is next
    (with advice=True, also how to start on it; upcoming_line=False leaves "what next" to the caller)."""
    score = float(report.get("score", 0.0))
    maximum = float(report.get("max_score", 0.0)) or 1.0
    exercises = report.get("exercises", [])
    done = [e["name"] for e in exercises if exercise_done(e)]
    lines = [f"Progress {bar(score / maximum)} {score:g} / {maximum:g} points ({100 * score / maximum:.0f}%)",
             f"Exercises done: {len(done)} of {len(exercises)}" + (f" ({', '.join(done)})" if done else "")]
    upcoming = next_exercise(done)
    if upcoming_line and upcoming is None:
        lines.append(milestones_line(report.get("milestones", [])))
    elif upcoming_line:
        entry = next((e for e in exercises if e.get("name") == upcoming.name), {})
        tests = f" ({entry.get('passed', 0)}/{entry.get('total', 0)} tests pass)" if entry.get("total") else ""
        lines.append(f"Next: exercise {upcoming.number}, {upcoming.name} -- {upcoming.title}{tests}.")
        if advice:
            lines.append(f"      Read exercises/{upcoming.module_file}, then `make check EX={upcoming.name}`; "
                         f"stuck? `make hint EX={upcoming.name}`.")
    return "\n".join(lines)


def milestones_line(milestones: list[dict]) -> str:
    """What to do once every exercise passes: the milestones that failed or did not run, if any."""
    failed, not_run, locked = ([m for m in milestones if m.get("status") == status]
                               for status in (MilestoneStatus.FAILED, MilestoneStatus.NOT_RUN, MilestoneStatus.LOCKED))
    if failed:
        first = failed[0]
        reason = f": {first['reason']}" if first.get("reason") else ""
        others = f" (also failed: {', '.join(m['name'] for m in failed[1:])})" if len(failed) > 1 else ""
        return (f"Every exercise passes, but the milestone `{first['name']}` failed{reason}{others}. "
                "Fix it, then `make grade` runs it again.")
    if not_run or locked:
        waiting = ", ".join(m["name"] for m in not_run + locked)
        return f"Every exercise passes; these milestones have not run yet: {waiting}. `make grade` runs them."
    if milestones:
        return "Every exercise and every milestone passes. Well done."
    return "Every exercise passes. `make grade` runs the milestones."


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


def milestone_entries(entry: dict) -> list[dict]:
    """The milestones of a history line, as report entries {"name", "status", "reason"}."""
    reasons = entry.get("milestone_reasons", {})
    return [{"name": name, "status": status, "reason": reasons.get(name, "")}
            for name, status in entry.get("milestones", {}).items()]


def render_latest(entry: dict) -> str:
    """The bar for a history line (the same as `render` for the report it came from)."""
    return render({"score": entry.get("score", 0.0), "max_score": entry.get("max_score", 0.0),
                   "exercises": [{"name": name, "points": points, "status": ExerciseStatus.DONE
                                  if name in entry.get("done", []) else ExerciseStatus.FAILING}
                                 for name, points in entry.get("points", {}).items()],
                   "milestones": milestone_entries(entry)}, advice=True)


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
