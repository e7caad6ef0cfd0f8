"""`make grade [TARGET=...] [REPORT=...]`: score a target, run the milestones it has unlocked, say what next.

The engine is grader/core/grading.py. The report is written atomically to .grade/report.json (or --report).
The exit status says whether the grade run itself worked (0), not whether the learner passed; 2 means it
could not start (unknown target, bad arguments).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.core import manifest
from grader.core import report as reports
from grader.core import target as targets
from grader.core.grading import grade_target, quiet
from grader.core.manifest import ROOT
from grader.learner import progress

DEFAULT_REPORT = ROOT / ".grade" / "report.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make grade", description="Grade a target.")
    parser.add_argument("--target", type=targets.argument, default="",
                        help="exercises (default), solutions, or a directory")
    parser.add_argument("--report", default=None, help="where to write the JSON report (make grade ... REPORT=)")
    parser.add_argument("--only", default=None, help="comma-separated exercises to grade (default: all)")
    parser.add_argument("--no-milestones", action="store_true", help="score the tests only")
    parser.add_argument("--quick", action="store_true", help="milestones in quick mode (for the test suite)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    kata = manifest.load()
    say = quiet if args.quiet else (lambda *a, **k: print(*a, **k, flush=True))
    target_dir = args.target
    names = kata.names if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in kata.names]
    if unknown:
        print(f"make grade: unknown exercises {unknown}; the exercises are {', '.join(kata.names)}", file=sys.stderr)
        return 2
    report_path = Path(args.report) if args.report else DEFAULT_REPORT
    shown = targets.display_name(target_dir)
    say(f"Grading `{shown}`: {len(names)} exercises, then the milestones they unlock.")
    report = grade_target(kata, target_dir, names, milestones=not args.no_milestones, quick=args.quick, say=say,
                          milestone_dir=report_path.parent / "milestones")
    print("\n" + report.pop("table"), flush=True)  # the exercises', then the milestones'
    reports.write(report, report_path)
    print(f"\nScore: {report['score']:g} / {report['max_score']:g} points (core {report['core_score']:g} / "
          f"{report['core_max_score']:g}).")
    if not report["tamper_proof"]:
        print(report["isolation"])
    if report["data_problem"]:
        print(f"Data problem: {report['data_problem']}")
    if report["integrity_problems"]:
        print("Warning: the tests or the grader differ from the committed versions: "
              + ", ".join(report["integrity_problems"][:5]))
    if shown == "exercises":
        progress.record(report)  # the learner's history (make progress)
    print("\n" + progress.render(report) + "\n\n" + report["next"])
    print(f"\n(report: {targets.display_name(report_path)}; {report['seconds']:g} s; graded a snapshot of your files, "
          f"sha256 {report['snapshot_sha256'][:12]})")
    return 0
