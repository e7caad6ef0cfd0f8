"""`make grade-all DIR=submissions/ [OUT=...]`: grade every sub-folder of DIR, write a gradebook.

What it writes (OUT, default .grade/gradebook/), which folders it grades and how it resumes: README.md,
"Grading a class". Each submission is graded like `make grade`, with limits of its own
(grader/core/submission.py), `--jobs N` at once. A row is written as soon as it is graded, and reused by
the next run only when its submission's files, the kata and the options are the same; the seed of the
inputs is drawn afresh for every grading run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from grader.core import integrity, manifest, sandbox, seeds
from grader.core import report as reports
from grader.core.manifest import ROOT
from grader.core.target import display_name
from grader.core.submission import (DEFAULT_MEMORY_GB, DEFAULT_MILESTONE_TIMEOUT, DEFAULT_PROCESSES,
                                    DEFAULT_TIMEOUT, Limits, Row, copy_sources, files_hash, grade_one,
                                    submission_files)
from grader.feedback import edits
from grader.instructor import similarity

DEFAULT_OUT = ROOT / ".grade" / "gradebook"
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def discover(directory: Path, out: Path | None = None) -> list[Path]:
    """The sub-folders of directory, in name order (hidden ones and the output folder skipped)."""
    return [path for path in sorted(directory.iterdir())
            if path.is_dir() and not path.is_symlink() and not path.name.startswith((".", "_"))
            and (out is None or path.resolve() != out.resolve())]


def write_outputs(rows: list[Row], out: Path, meta: dict) -> None:
    """The CSV and JSON gradebooks and one report per row, each file replaced atomically."""
    kata = manifest.load()
    exercises, milestones = kata.names, [m.name for m in kata.milestones]
    for row in rows:
        reports.write(row.report, out / "reports" / f"{row.name}.json")
    csv_path = out / "gradebook.csv"
    header = (["name", "score", "max_score"] + [f"points:{e}" for e in exercises]
              + [f"milestone:{m}" for m in milestones] + ["problems", "similar", "seconds"])
    temporary = csv_path.with_suffix(".tmp")
    with open(temporary, "w", newline="") as handle:
        csv.writer(handle).writerows([header] + [
            [row.name, f"{row.score:g}", f"{row.max_score:g}"]
            + [f"{row.points[e]:g}" if e in row.points else "" for e in exercises]
            + [row.milestones.get(m, "") for m in milestones]
            + ["; ".join(row.problems), "; ".join(row.similar), f"{row.seconds:g}"] for row in rows])
    temporary.replace(csv_path)
    data = dict(meta, rows=[{"name": r.name, "score": r.score, "max_score": r.max_score, "points": r.points,
                             "milestones": r.milestones, "problems": r.problems, "similar": r.similar,
                             "seconds": r.seconds, "report": f"reports/{r.name}.json"} for r in rows])
    reports.write(data, out / "gradebook.json")


def _saved_row(out: Path, name: str) -> Row | None:
    """The row kept by an earlier run (OUT/rows/<name>.json), or None when there is none in this shape."""
    data = reports.read(out / "rows" / f"{name}.json")
    try:
        return Row(**data) if data else None
    except TypeError:
        return None


def grade_all(directory: Path, out: Path, limits: Limits, *, milestones: bool = False, quick: bool = False,
              only: str | None = None, fresh: bool = False, jobs: int = 1, say=print) -> list[Row]:
    """Grade every sub-folder of directory into out (resuming unless fresh), `jobs` submissions at once, each
    in its own judge, sandbox and limits; returns the rows in name order."""
    submissions = discover(directory, out)
    if not submissions:
        say(f"No sub-folders in {directory}: put one folder per submission there.")
        return []
    problems = integrity.check()
    if problems:
        say("Warning: this repository's tests/ or grader/ differ from the release: "
            + ", ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
    options = json.dumps({"milestones": milestones, "quick": quick, "only": only}, sort_keys=True)
    isolation = sandbox.isolation()
    say(f"Grading {_count(len(submissions), 'submission')} from {directory}, {jobs} at once "
        f"({'with' if milestones else 'without'} milestones; limits: {limits.memory_gb:g} GB memory, "
        f"{limits.processes} processes, {limits.wall_seconds:g} s per submission). {isolation.sentence}")
    seed, version = seeds.fresh(), reports.kata_version()
    meta = {"directory": str(directory), "milestones": milestones, "integrity_problems": problems,
            "isolation": isolation.sentence, "tamper_proof": isolation.tamper_proof,
            "kata_version": version, "limits": asdict(limits)}
    rows: dict[str, Row] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))  # threads suffice: each row's work is in child processes
    beside = ThreadPoolExecutor(max_workers=1)  # similarity reads only the copies: it runs beside the rows' judges
    with tempfile.TemporaryDirectory(prefix="kata-gradebook-") as private:
        try:
            pending = {}
            for source in submissions:
                copy = Path(private) / source.name
                copy_sources(source, copy)
                digest = files_hash(copy)
                saved = None if fresh else _saved_row(out, source.name)
                if saved and (saved.files_hash, saved.options, saved.kata_version) == (digest, options, version):
                    rows[source.name] = saved
                    say(f"  {source.name:<24} {saved.score:>6g} / {saved.max_score:<6g} (unchanged since the last "
                        "run)")
                    continue
                pending[pool.submit(grade_one, source.name, copy, limits, milestones=milestones, quick=quick,
                                    only=only, seed=seed, say=say,
                                    env={edits.SEARCH_VAR: "0"})] = digest  # seconds per failing exercise: none
            similar = beside.submit(similarity.compare_submissions,
                                    {s.name: submission_files(Path(private) / s.name) for s in submissions})
            for future in as_completed(pending):
                row = future.result()
                row.files_hash, row.options, row.kata_version = pending[future], options, version
                rows[row.name] = row  # written as soon as it is graded (the gradebook, then the row that resumes)
                write_outputs([rows[s.name] for s in submissions if s.name in rows], out, dict(meta, complete=False))
                reports.write(asdict(row), out / "rows" / f"{row.name}.json")
        finally:
            pool.shutdown(cancel_futures=True)  # an interrupted batch starts no further row
            beside.shutdown(wait=False)
        found = similar.result()
    reports.write(found, out / "similarity.json")
    for row in rows.values():
        row.similar = similarity.summary_for(found, row.name)
    ordered = [rows[s.name] for s in submissions]
    write_outputs(ordered, out, dict(meta, complete=True, graded_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
    _summary(ordered, found, out, say)
    return ordered


def _summary(rows: list[Row], found: dict, out: Path, say) -> None:
    troubled = [row.name for row in rows if row.problems]
    say(f"{_count(len(rows), 'submission')} graded" + (f"; {len(troubled)} with problems (see the problems "
        "column): " + ", ".join(troubled) if troubled else "; no problems."))
    if found["pairs"] or found["reference"] or found["dynamic"]:
        say(f"Similarity: {len(found['pairs'])} near-identical pair(s), {len(found['reference'])} submission(s) "
            f"near-identical to the reference, {len(found['dynamic'])} exercise(s) with dynamic code (shown beside "
            f"the scores; see {display_name(out / 'similarity.json')}).")
    say(f"Wrote {display_name(out / 'gradebook.csv')}, {display_name(out / 'gradebook.json')} and one report per "
        f"submission in {display_name(out / 'reports')}.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make grade-all", description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", help="a folder with one sub-folder per submission")
    parser.add_argument("--out", default=None, help=f"output folder (default {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--milestones", action="store_true", help="also run the milestones (minutes each)")
    parser.add_argument("--quick", action="store_true", help="milestones in quick mode")
    parser.add_argument("--only", default=None, help="comma-separated exercises to grade (default: all)")
    parser.add_argument("--memory-gb", type=float, default=DEFAULT_MEMORY_GB, help="address space per process")
    parser.add_argument("--timeout", type=float, default=None, help="wall-clock seconds per submission")
    parser.add_argument("--cpu-seconds", type=float, default=None, help="CPU seconds per process")
    parser.add_argument("--processes", type=int, default=DEFAULT_PROCESSES, help="processes per submission")
    parser.add_argument("--fresh", action="store_true", help="regrade every submission (no resume)")
    parser.add_argument("--jobs", type=int, default=CORES, help="submissions graded at once, each in its own "
                        f"sandbox and limits (make grade-all JOBS=N; default: the number of cores, {CORES} here)")
    args = parser.parse_args(argv)
    if not args.directory:
        print("Say which folder: make grade-all DIR=submissions/ (one sub-folder per submission)", file=sys.stderr)
        return 2
    directory = Path(args.directory).expanduser().resolve()
    if not directory.is_dir():
        print(f"make grade-all: {args.directory} is not a folder", file=sys.stderr)
        return 2
    wall = args.timeout or (DEFAULT_MILESTONE_TIMEOUT if args.milestones else DEFAULT_TIMEOUT)
    limits = Limits(memory_gb=args.memory_gb, cpu_seconds=args.cpu_seconds or wall, wall_seconds=wall,
                    processes=args.processes)
    out = Path(args.out).expanduser().resolve() if args.out else DEFAULT_OUT
    try:
        grade_all(directory, out, limits, milestones=args.milestones, quick=args.quick, only=args.only,
                  fresh=args.fresh, jobs=args.jobs, say=lambda *a, **k: print(*a, **k, flush=True))
    except KeyboardInterrupt:
        print(f"\nInterrupted: every finished row is in {display_name(out)}; run the same command again to resume.")
        return 130
    return 0
