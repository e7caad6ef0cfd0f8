"""Grade one Gradescope submission with the trusted grader and write results/results.json.

Run by run_autograder as `python -m grader.platforms.gradescope.autograde [options]` from the kata's copy
in $AUTOGRADER_ROOT/source (AUTOGRADER_ROOT defaults to /autograder, so this can be tried anywhere). It
grades $AUTOGRADER_ROOT/submission (the files flat, or one folder deeper as a GitHub upload puts them)
exactly as grade-all grades a row (`core.submission.grade_one`) and converts the report with
export.to_gradescope, adding a line of progress from the student's earlier scores
($AUTOGRADER_ROOT/submission_metadata.json).

results.json is always valid: a placeholder saying that grading did not finish is written first, and
replaced when grading ends, whatever the submission did; if the grader itself fails, score 0 and the
sentence saying why. As root (Gradescope runs the autograder as root, usually without user namespaces)
the reference and the mutant banks are first made private (chmod 700), so learner code runs as an
unprivileged user that cannot read them (sandbox.py's uid mode).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from grader.core import report as reports
from grader.core import manifest, seeds
from grader.core import submission as submissions
from grader.core.mode import ONE_WORKER_VAR
from grader.core.manifest import DATA_DIR, ROOT, SOLUTIONS_DIR
from grader.platforms import export

DEFAULT_ROOT = "/autograder"
PRIVATE = {SOLUTIONS_DIR: 0o700, ROOT / "tests" / "mutants": 0o700,
           DATA_DIR / "mnist" / "t10k-labels-idx1-ubyte.gz": 0o600}
DEFAULT_MEMORY_GB = 0.7  # per process (RLIMIT_AS); Gradescope's default container has 768 MB in all
DEFAULT_WALL_SECONDS = 600.0


def make_reference_private() -> None:
    """As root: the reference, the mutant banks and the MNIST test labels become unreadable to the
    unprivileged user learner code runs as. Elsewhere nothing changes (the sandbox hides them)."""
    if os.geteuid() != 0:
        return
    for path, mode in PRIVATE.items():
        if path.exists():
            os.chmod(path, mode)


def grade(root: Path, *, milestones: str, memory_gb: float, wall_seconds: float, only: str | None = None) -> dict:
    """Grade root/submission; return Gradescope's results.json as a dict."""
    started = time.perf_counter()
    submitted = root / "submission"
    folder = submissions.submission_files(submitted) if submitted.is_dir() else submitted  # flat or one deeper
    names = [ex.module_file for ex in manifest.load().exercises]
    if not any((folder / name).is_file() for name in names):
        return export.failed_gradescope(
            f"the submission holds none of the exercise files ({', '.join(names)}). Upload the files of your "
            "exercises/ folder (or the folder itself, or your repository).", time.perf_counter() - started)
    make_reference_private()
    os.environ[ONE_WORKER_VAR] = "1"  # one worker at a time: the judge, a worker and this process fit in 768 MB
    limits = submissions.Limits(memory_gb=memory_gb, cpu_seconds=wall_seconds, wall_seconds=wall_seconds)
    with tempfile.TemporaryDirectory(prefix="kata-gradescope-") as private:
        os.chmod(private, 0o755)
        copy = Path(private) / "submission"
        submissions.copy_sources(folder, copy)
        row = submissions.grade_one("submission", copy, limits, milestones=milestones != "off",
                                  quick=milestones == "quick", only=only, seed=seeds.fresh())
    report = row.report or {}
    if not report.get("exercises"):
        return export.failed_gradescope("; ".join(row.problems) or "no exercise could be graded.",
                                        time.perf_counter() - started)
    report.setdefault("kata_version", reports.kata_version())
    report["seconds"] = round(time.perf_counter() - started, 1)
    data = export.to_gradescope(report, milestones=milestones != "off", previous=previous_submissions(root))
    if milestones == "off" and all(reports.exercise_done(e) for e in report["exercises"]):
        data["output"] = ("Every exercise passes. The milestones (training on MNIST) are not run on Gradescope: "
                          "try them on your machine with `make grade`.")
    return data


def previous_submissions(root: Path) -> list[dict]:
    """Gradescope's earlier submissions of this student (submission_metadata.json), oldest first; [] if none."""
    previous = (reports.read(root / "submission_metadata.json") or {}).get("previous_submissions")
    return sorted((p for p in previous or [] if isinstance(p, dict)), key=lambda p: str(p.get("submission_time", "")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_autograder", description=__doc__.splitlines()[0])
    parser.add_argument("--milestones", choices=("off", "quick", "full"), default="off",
                        help="run the milestones the submission unlocks (default off: the platform's 768 MB)")
    parser.add_argument("--memory-gb", type=float, default=DEFAULT_MEMORY_GB, help="address space per process")
    parser.add_argument("--timeout", type=float, default=DEFAULT_WALL_SECONDS, help="seconds for the whole grade")
    parser.add_argument("--only", default=None, help="comma-separated exercises to grade (default: all)")
    args = parser.parse_args(argv)
    root = Path(os.environ.get("AUTOGRADER_ROOT") or DEFAULT_ROOT)
    results = root / "results" / "results.json"
    started = time.perf_counter()
    reports.write(export.failed_gradescope(
        "the grader was stopped before it finished (the platform's time or memory limit), usually by code that "
        "loops forever or is far too slow in several exercises: run `make grade` on your machine first."), results)
    try:
        data = grade(root, milestones=args.milestones, memory_gb=args.memory_gb, wall_seconds=args.timeout,
                     only=args.only)
    except BaseException as error:  # noqa: BLE001 - whatever happened, results.json says it
        data = export.failed_gradescope(f"the grader itself failed ({type(error).__name__}: {error}).",
                                        time.perf_counter() - started)
    reports.write(data, results)
    print(f"score {data['score']} in {time.perf_counter() - started:.1f} s; wrote {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
