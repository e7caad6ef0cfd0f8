"""`make grade-all DIR=submissions/ [OUT=...]`: grade every sub-folder of DIR, write a gradebook.

Each submission is graded like `make grade` (grader/learner/grade.py): a judge process, which runs no
learner code, decides every verdict from the observations of sandboxed workers (grader/core/judge.py,
sandbox.py). Learner code cannot see the reference of the exercise it is graded on, PyTorch, other
submissions, this gradebook or the instructor's files; memory and process count are limited per
submission (cgroups as root, else per process; the row says which when the sandbox is missing), and a
hang or crash costs the test it happened in.

Nothing is lost: each row is written (OUT/rows/<name>.json, and the CSV and JSON gradebooks rewritten)
as soon as its submission is graded, so a killed or interrupted batch keeps every finished row, and
running it again resumes where it stopped (a row is reused only when its submission's files, the kata
and the options are the same). The seed of the inputs is drawn afresh for every grading run.

Sub-folders whose name starts with "." or "_" are skipped; a submission whose exercise files sit one or
more folders deeper (an unpacked zip) is graded from the first folder holding them.

Outputs in OUT (default .grade/gradebook/): gradebook.csv and gradebook.json (one row per submission:
name, score, max, points per exercise, milestone statuses, problems in plain words, similarity),
reports/<name>.json (the full grade report of each) and similarity.json (grader/instructor/similarity.py).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.core import manifest, sandbox, seeds
from grader.core import target as targets
from grader.core import report as reports
from grader.core.manifest import ROOT
from grader.core.report import GRADING_PROBLEMS
from grader.instructor import integrity, similarity

DEFAULT_OUT = ROOT / ".grade" / "gradebook"
# Measured on the reference: an exercise's worker (Python, NumPy, pytest) needs well under 1 GiB; the
# full MNIST milestone passes with 1.5 GiB. 4 GiB leaves room for a learner's float64 copies without
# letting one submission take the machine's memory.
DEFAULT_MEMORY_GB = 4.0
DEFAULT_TIMEOUT = 900.0            # seconds of wall clock for a whole grade without milestones
DEFAULT_MILESTONE_TIMEOUT = 3600.0  # with milestones (two MNIST trainings and a benchmark)
DEFAULT_PROCESSES = 64             # per submission (a fork bomb stops there)


@dataclass
class Limits:
    memory_gb: float = DEFAULT_MEMORY_GB
    cpu_seconds: float = DEFAULT_TIMEOUT
    wall_seconds: float = DEFAULT_TIMEOUT
    processes: int = DEFAULT_PROCESSES

    def for_workers(self) -> sandbox.Limits:
        return sandbox.Limits(memory_bytes=int(self.memory_gb * 2**30), cpu_seconds=max(1, int(self.cpu_seconds)),
                              processes=self.processes)


@dataclass
class Row:
    name: str
    score: float = 0.0
    max_score: float = 0.0
    points: dict[str, float] = field(default_factory=dict)
    milestones: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    similar: list[str] = field(default_factory=list)
    seconds: float = 0.0
    files_hash: str = ""
    options: str = ""
    kata_version: str = ""
    report: dict | None = None


def files_hash(folder: Path) -> str:
    """The SHA-256 of a submission's .py files (names and contents): resume reuses a row only when equal."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _submission_files(source: Path) -> Path:
    """The folder holding the exercise files: the submission itself, or a single sub-folder (a zip that
    unpacked into alice/exercises/ or alice/kata-main/exercises/)."""
    names = {ex.module_file for ex in manifest.load().exercises}
    if any((source / name).is_file() for name in names):
        return source
    candidates = [p.parent for p in source.rglob("*.py") if p.name in names and "__pycache__" not in p.parts]
    folders = sorted(set(candidates), key=lambda p: (len(p.parts), str(p)))
    return folders[0] if folders else source


def _copy_sources(source: Path, destination: Path) -> None:
    """A private copy of a submission's .py files (no symlinks, which could point into another submission)."""
    destination.mkdir(parents=True)
    for path in sorted(source.rglob("*.py")):
        relative = path.relative_to(source)
        if path.is_symlink() or not path.is_file() or "__pycache__" in relative.parts:
            continue
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination / relative)


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def report_problems(report: dict, limits: Limits) -> list[str]:
    """Plain-language problems from a grade report: exercises that could not be graded properly."""
    problems = []
    memory_hit = False
    for entry in report.get("exercises", []):
        status = entry.get("status", "")
        messages = [t.get("message", "") for t in entry.get("tests", [])] + [entry.get("problem") or ""]
        if any("MemoryError" in m or "Cannot allocate memory" in m for m in messages):
            memory_hit = True
        exits = [t for t in entry.get("tests", []) if t.get("kind") == "SystemExit"]
        if exits and status not in GRADING_PROBLEMS:
            where = f" ({exits[0]['where']})" if exits[0].get("where") else ""
            problems.append(f"{entry.get('name')}: the code calls sys.exit(){where}, which ends the program that "
                            "runs it: raise an exception or return instead")
        if status in GRADING_PROBLEMS:
            problems.append(f"{entry.get('name')}: {status}: {_short(entry.get('detail') or entry.get('problem') or '')}")
    if memory_hit:
        problems.append(f"ran out of memory: it tried to use more than the {limits.memory_gb:g} GB limit")
    if not report.get("tamper_proof", True):
        problems.append(report.get("isolation") or sandbox.NOT_TAMPER_PROOF)
    return problems


def grade_one(name: str, source: Path, limits: Limits, *, milestones: bool, quick: bool, only: str | None,
              seed: int, say=print) -> Row:
    """Grade one submission (a private copy); never raises for anything the submission does."""
    from grader.learner import grade

    kata = manifest.load()
    names = [n for n in kata.names if not only or n in only.split(",")]
    row = Row(name=name, max_score=float(sum(kata.exercise(n).points for n in names)))
    started = time.perf_counter()
    cgroup = sandbox.CGroup(limits.for_workers())
    try:
        target = targets.resolve(str(_submission_files(source)))
        with tempfile.TemporaryDirectory(prefix="kata-milestones-") as milestone_dir:
            row.report = grade.grade_target(
                kata, target, names, milestones=milestones, quick=quick, say=lambda *a, **k: None,
                milestone_dir=Path(milestone_dir), seed=seed,
                worker_env=sandbox.limits_environment(limits.for_workers(), cgroup, limits.wall_seconds),
                wall_seconds=limits.wall_seconds)
        row.report.pop("table", None)
        row.score, row.max_score = float(row.report["score"]), float(row.report["max_score"])
        row.points = {e["name"]: float(e.get("points", 0.0)) for e in row.report.get("exercises", [])}
        row.milestones = {m["name"]: str(m.get("status", "")) for m in row.report.get("milestones", [])}
        row.problems += report_problems(row.report, limits)
        row.report["limits"] = sandbox.limits_sentence(limits.for_workers(), cgroup)  # what actually applied
        if not cgroup.active:
            row.problems.append(row.report["limits"])
    except targets.TargetError as error:
        row.problems.append(f"cannot grade it: {error}")
    except Exception as error:  # a gradebook bug must not lose the other rows
        row.problems.append(f"the gradebook failed on this submission: {type(error).__name__}: {error}")
    finally:
        cgroup.close()
        row.problems = [p.replace(str(source), name) for p in row.problems]
        if row.report is None:
            row.report = {"target": name, "score": 0.0, "max_score": row.max_score, "exercises": [], "milestones": []}
        row.report["submission"] = name
        row.report["gradebook_problems"] = list(row.problems)
        row.seconds = round(time.perf_counter() - started, 1)
    say(f"  {name:<24} {row.score:>6g} / {row.max_score:<6g} {row.seconds:>6.1f} s"
        + (f"  problems: {'; '.join(row.problems)}" if row.problems else ""))
    return row


def discover(directory: Path, out: Path | None = None) -> list[Path]:
    """The sub-folders of directory, in name order (hidden ones and the output folder skipped)."""
    found = []
    for path in sorted(directory.iterdir()):
        if not path.is_dir() or path.is_symlink() or path.name.startswith((".", "_")):
            continue
        if out is not None and path.resolve() == out.resolve():
            continue
        found.append(path)
    return found


def write_outputs(rows: list[Row], out: Path, meta: dict) -> tuple[Path, Path]:
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
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.name, f"{row.score:g}", f"{row.max_score:g}"]
                            + [f"{row.points[e]:g}" if e in row.points else "" for e in exercises]
                            + [row.milestones.get(m, "") for m in milestones]
                            + ["; ".join(row.problems), "; ".join(row.similar), f"{row.seconds:g}"])
    temporary.replace(csv_path)
    json_path = out / "gradebook.json"
    data = dict(meta, rows=[{"name": r.name, "score": r.score, "max_score": r.max_score, "points": r.points,
                             "milestones": r.milestones, "problems": r.problems, "similar": r.similar,
                             "seconds": r.seconds, "report": f"reports/{r.name}.json"} for r in rows])
    reports.write(data, json_path)
    return csv_path, json_path


def _saved_row(out: Path, name: str) -> Row | None:
    data = reports.read(out / "rows" / f"{name}.json")
    if not data:
        return None
    try:
        return Row(**data)
    except TypeError:
        return None


def _save_row(out: Path, row: Row) -> None:
    reports.write(asdict(row), out / "rows" / f"{row.name}.json")


def grade_all(directory: Path, out: Path, limits: Limits, *, milestones: bool = False, quick: bool = False,
              only: str | None = None, fresh: bool = False, say=print) -> list[Row]:
    """Grade every sub-folder of directory into out (resuming unless fresh); returns the rows in name order."""
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
    say(f"Grading {_count(len(submissions), 'submission')} from {directory} "
        f"({'with' if milestones else 'without'} milestones; limits: {limits.memory_gb:g} GB memory, "
        f"{limits.processes} processes, {limits.wall_seconds:g} s per submission). {isolation.sentence}")
    seed = seeds.fresh()
    meta = {"directory": str(directory), "milestones": milestones, "integrity_problems": problems,
            "isolation": isolation.sentence, "tamper_proof": isolation.tamper_proof,
            "kata_version": reports.kata_version(), "limits": asdict(limits)}
    rows: dict[str, Row] = {}
    with tempfile.TemporaryDirectory(prefix="kata-gradebook-") as private:
        for source in submissions:
            copy = Path(private) / source.name
            _copy_sources(source, copy)
            digest = files_hash(copy)
            saved = None if fresh else _saved_row(out, source.name)
            if saved and (saved.files_hash, saved.options, saved.kata_version) == (digest, options,
                                                                                  reports.kata_version()):
                rows[source.name] = saved
                say(f"  {source.name:<24} {saved.score:>6g} / {saved.max_score:<6g} (unchanged since the last run)")
                continue
            row = grade_one(source.name, copy, limits, milestones=milestones, quick=quick, only=only, seed=seed,
                            say=say)
            row.files_hash, row.options, row.kata_version = digest, options, reports.kata_version()
            rows[source.name] = row
            _save_row(out, row)  # written as soon as it is graded: a killed batch keeps it
            write_outputs(list(rows.values()), out, dict(meta, complete=False))
        found = similarity.compare_submissions({name: _submission_files(Path(private) / name) for name in rows})
    similarity.write(found, out / "similarity.json")
    for row in rows.values():
        row.similar = similarity.summary_for(found, row.name)
    ordered = [rows[s.name] for s in submissions]
    csv_path, json_path = write_outputs(ordered, out, dict(meta, complete=True, graded_at=time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
    troubled = [row.name for row in ordered if row.problems]
    say(f"{_count(len(ordered), 'submission')} graded" + (f"; {len(troubled)} with problems (see the problems "
                                                        "column): " + ", ".join(troubled) if troubled else "; no problems."))
    if found["pairs"] or found["reference"]:
        say(f"Similarity: {len(found['pairs'])} near-identical pair(s), {len(found['reference'])} submission(s) "
            f"near-identical to the reference (shown beside the scores; see {_shown(out / 'similarity.json')}).")
    say(f"Wrote {_shown(csv_path)}, {_shown(json_path)} and one report per submission in {_shown(out / 'reports')}.")
    return ordered


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
                  fresh=args.fresh, say=lambda *a, **k: print(*a, **k, flush=True))
    except KeyboardInterrupt:
        print(f"\nInterrupted: every finished row is in {_shown(out)}; run the same command again to resume.")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
