"""`make grade-all DIR=submissions/ [OUT=...]`: grade every sub-folder of DIR, write a gradebook.

Each submission is graded by its own `python -m grader grade` process, with limits on memory (address
space), CPU time and wall-clock time, in a scratch folder holding a copy of the submission and a copy of
the kata (grader/, tests/, solutions/). Whatever a submission does (hang, exit at import, allocate huge
arrays, write files elsewhere, edit the tests), it can spoil only its own row, and the row says so.

Everything is copied before the first submission runs (the kata and every submission, into a private
temporary folder), so a submission that changes files elsewhere cannot change what the next rows are
graded with. After each submission the gradebook checks, against the state before it ran: the kata copy
it was graded with (an edited test or reference means its score cannot be trusted), the scratch folder
around its own, the submissions in DIR, and the repository's tests/, grader/, solutions/ and data/
(reported; never written). Milestones (MNIST training, a speed benchmark) are off by default: they take minutes per
submission; --milestones turns them on.

Sub-folders whose name starts with "." or "_" are skipped; a submission whose exercise files sit one or
more folders deeper (an unpacked zip) is graded from the first folder holding them.

Outputs in OUT (default .grade/gradebook/): gradebook.csv and gradebook.json (one row per submission:
name, score, max, points per exercise, milestone statuses, problems in plain words) and
reports/<name>.json (the full grade report of each submission).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.instructor import integrity
from grader.core import manifest
from grader.core.manifest import ROOT

DEFAULT_OUT = ROOT / ".grade" / "gradebook"
# Measured on the reference: an exercise's test process (Python, NumPy, PyTorch) passes with RLIMIT_AS =
# 1 GiB, and the full MNIST milestone (all 60,000 training images) passes with 1.5 GiB. 4 GiB leaves room for
# a learner's float64 copies without letting one submission take the machine's memory.
DEFAULT_MEMORY_GB = 4.0
DEFAULT_TIMEOUT = 900.0            # seconds of wall clock for a whole grade without milestones
DEFAULT_MILESTONE_TIMEOUT = 3600.0  # with milestones (two MNIST trainings and a benchmark)
KATA_TREES = ("grader", "tests", "solutions")
KATA_FILES = ("pyproject.toml",)
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".grade", ".kata")
GRADING_STATUSES = {"crashed", "error", "timed out", "import error", "syntax error"}


@dataclass
class Limits:
    memory_gb: float = DEFAULT_MEMORY_GB
    cpu_seconds: float = DEFAULT_TIMEOUT
    wall_seconds: float = DEFAULT_TIMEOUT

    def preexec(self):
        """Runs in the child before exec: its own session (so the whole group can be killed) and limits.

        The limits are inherited by the grade's own test processes, each of which gets the same budget.
        """
        memory = int(self.memory_gb * 2**30)
        cpu = max(1, int(self.cpu_seconds))

        def apply():
            os.setsid()
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        return apply


@dataclass
class Row:
    name: str
    score: float = 0.0
    max_score: float = 0.0
    points: dict[str, float] = field(default_factory=dict)
    milestones: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    report: dict | None = None


def tree_hashes(folder: Path, skip: set[str] | None = None) -> dict[str, str]:
    """{relative path: sha256} of the files under folder (symlinks recorded by target, caches skipped)."""
    found = {}
    if not folder.exists():
        return found
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if skip and relative.parts[0] in skip:
            continue
        if any(part in ("__pycache__", ".pytest_cache") for part in relative.parts) or path.suffix == ".pyc":
            continue
        try:
            if path.is_symlink():
                found[relative.as_posix()] = "symlink:" + str(os.readlink(path))
            elif path.is_file():
                found[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            found[relative.as_posix()] = "unreadable"
    return found


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def _submission_files(source: Path) -> Path:
    """The folder holding the exercise files: the submission itself, or a single sub-folder (a zip that
    unpacked into alice/exercises/ or alice/kata-main/exercises/)."""
    names = {ex.module_file for ex in manifest.load().exercises}
    if any((source / name).is_file() for name in names):
        return source
    candidates = [p.parent for p in source.rglob("*.py") if p.name in names and "__pycache__" not in p.parts]
    folders = sorted(set(candidates), key=lambda p: (len(p.parts), str(p)))
    return folders[0] if folders else source


def _copy_regular_files(source: Path, destination: Path) -> None:
    """Copy a submission, leaving out symlinks (which could point into another submission) and caches."""
    destination.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_symlink() or any(part in ("__pycache__", ".pytest_cache") for part in relative.parts):
            continue
        if path.is_dir():
            (destination / relative).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination / relative)


def _copy_kata(destination: Path) -> None:
    destination.mkdir(parents=True)
    for tree in KATA_TREES:
        shutil.copytree(ROOT / tree, destination / tree, ignore=IGNORED, symlinks=True)
    for name in KATA_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, destination / name)
    if (ROOT / "data").exists():
        (destination / "data").symlink_to(ROOT / "data", target_is_directory=True)


class Pristine:
    """One copy of the kata (grader/, tests/, solutions/) taken before any submission runs.

    Every submission is graded with a fresh copy of it, so a submission that edits the tests, the grader
    or the reference (in its copy, or even in the repository, which it could find from sys.executable)
    changes nothing for the next rows. The repository itself is only watched, never written: changes
    to it are reported on the row during which they appeared.
    """

    def __init__(self, folder: Path, root: Path = ROOT):
        self.root = root
        self.folder = folder
        _copy_kata(folder)
        self.lock = threading.Lock()
        self.hashes = tree_hashes(folder, skip={"data"})
        self.repository = self.repository_hashes()
        self.submissions_dir, self.submissions = None, {}
        self.test_counts = self.count_tests()

    def count_tests(self) -> dict[str, int]:
        """{exercise: number of tests in its test file}, collected once from the untouched copy.

        A grade report with more results than that for an exercise was tampered with (learner code can
        append fake results to the file the test process writes them to)."""
        files = [f"tests/exercises/test_{ex.name}.py" for ex in manifest.load().exercises
                 if (self.folder / "tests" / "exercises" / f"test_{ex.name}.py").exists()]
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                 "--target", "solutions", *files],
                cwd=self.folder, env=dict(_environment(self.folder, self.folder), HOME=os.environ.get("HOME", "/")),
                capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            return {}
        counts: dict[str, int] = {}
        for line in completed.stdout.splitlines():
            path, sep, _ = line.partition("::")
            if sep and path.startswith("tests/exercises/test_") and path.endswith(".py"):
                name = path[len("tests/exercises/test_"):-len(".py")]
                counts[name] = counts.get(name, 0) + 1
        return counts

    def repository_hashes(self) -> dict[str, str]:
        found = {}
        for tree in KATA_TREES + ("data",):
            found.update({f"{tree}/{k}": v for k, v in tree_hashes(self.root / tree).items()})
        return found

    def copy_to(self, destination: Path) -> None:
        if tree_hashes(self.folder, skip={"data"}) != self.hashes:
            raise RuntimeError("the gradebook's private copy of the kata changed during grading")
        shutil.copytree(self.folder, destination, symlinks=True)

    def repository_changes(self) -> list[str]:
        """Paths under tests/, grader/, solutions/, data/ of the repository changed since the last call."""
        with self.lock:
            now = self.repository_hashes()
            paths = changed(self.repository, now)
            self.repository = now
            return paths

    def watch_submissions(self, directory: Path, names: list[str]) -> None:
        self.submissions_dir = directory
        self.submissions = {name: tree_hashes(directory / name) for name in names}

    def submission_changes(self, own: str) -> list[str]:
        """The other submissions in DIR whose files changed since the last call."""
        with self.lock:
            found = []
            for name, before in self.submissions.items():
                now = tree_hashes(self.submissions_dir / name)
                if now != before:
                    self.submissions[name] = now
                    if name != own:
                        found.append(name)
            return found


def _environment(kata: Path, state: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KATA_")}
    env.update(PYTHONPATH=str(kata), PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1",
               KATA_STATE_DIR=str(state), HOME=str(state))
    return env


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def report_problems(report: dict, limits: Limits, test_counts: dict[str, int] | None = None) -> list[str]:
    """Plain-language problems from a grade report: exercises that could not be graded properly."""
    problems = []
    memory_hit = False
    for entry in report.get("exercises", []):
        status = entry.get("status", "")
        expected = (test_counts or {}).get(entry.get("name"))
        if expected is not None and (entry.get("total") or 0) > expected:
            problems.append(f"{entry.get('name')}: {entry.get('total')} test results for a test file of {expected} "
                            "tests: the results were tampered with (fake results written by the code); "
                            "its points cannot be trusted")
        messages = [t.get("message", "") for t in entry.get("tests", [])] + [entry.get("problem") or ""]
        if any("MemoryError" in m or "Cannot allocate memory" in m for m in messages):
            memory_hit = True
        exits = [t for t in entry.get("tests", []) if t.get("kind") == "SystemExit"]
        if exits and status not in GRADING_STATUSES:
            where = f" ({exits[0]['where']})" if exits[0].get("where") else ""
            problems.append(f"{entry.get('name')}: the code calls sys.exit(){where}, which ends the program that "
                            "runs it: raise an exception or return instead")
        if status in GRADING_STATUSES:
            problems.append(f"{entry.get('name')}: {status}: {_short(entry.get('detail') or entry.get('problem') or '')}")
        if any(f"(signal {int(signal.SIGXCPU)}" in m for m in messages):
            problems.append(f"{entry.get('name')}: a test process used more than {limits.cpu_seconds:g} s of CPU "
                            "time, the limit, and was stopped")
    if memory_hit:
        problems.append(f"ran out of memory: it tried to use more than the {limits.memory_gb:g} GB limit")
    return problems


def grade_one(name: str, source: Path, scratch_root: Path, limits: Limits, *, milestones: bool, quick: bool,
              only: str | None, pristine: Pristine, say=print, notes: list[str] | None = None) -> Row:
    """Grade one submission in its own scratch folder; never raises for anything the submission does."""
    chosen = [e for e in manifest.load().exercises if not only or e.name in only.split(",")]
    row = Row(name=name, problems=list(notes or []), max_score=float(sum(e.points for e in chosen)))
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix=f"kata-grade-{name[:20]}-", dir=scratch_root))
    kata, work, state, out = scratch / "kata", scratch / "work", scratch / "state", scratch / "out"
    try:
        pristine.copy_to(kata)
        state.mkdir()
        out.mkdir()
        own = work / name
        _copy_regular_files(source, own)
        target = _submission_files(own)
        kata_before = tree_hashes(kata)
        work_before = tree_hashes(work)
        report_path = out / "report.json"
        command = [sys.executable, "-m", "grader", "grade", "--target", str(target), "--report", str(report_path),
                   "--quiet"]
        if not milestones:
            command.append("--no-milestones")
        if quick:
            command.append("--quick")
        if only:
            command += ["--only", only]
        log_path = out / "grade.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=kata, env=_environment(kata, state), stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT, preexec_fn=limits.preexec())
            try:
                process.wait(timeout=limits.wall_seconds)
            except subprocess.TimeoutExpired:
                row.problems.append(
                    f"grading was stopped after {limits.wall_seconds:g} s, the time limit: the code hangs (an "
                    "infinite loop, or waiting at import) or is far too slow")
            finally:
                _kill_group(process)  # also any test process it left behind
                process.wait()
        code = process.returncode
        if report_path.exists():
            try:
                row.report = json.loads(report_path.read_text())
            except ValueError:
                row.problems.append("the grade report was unreadable")
        if row.report is None and not any("time limit" in p for p in row.problems):
            log = log_path.read_text(errors="replace").replace(str(target), name).replace(str(scratch), "...")
            tail = _short(" ".join(log.strip().splitlines()[-3:]))
            if code is not None and code < 0:
                reason = {signal.SIGXCPU: f"it used more than {limits.cpu_seconds:g} s of CPU time",
                          signal.SIGKILL: "it was killed (out of memory?)"}.get(-code, f"signal {-code}")
                row.problems.append(f"grading ended abruptly: {reason}")
            else:
                row.problems.append(f"the grader could not grade it (exit status {code}): {tail}")
        if row.report is not None:
            row.score = float(row.report.get("score", 0.0))
            row.max_score = float(row.report.get("max_score", 0.0))
            row.points = {e["name"]: float(e.get("points", 0.0)) for e in row.report.get("exercises", [])}
            row.milestones = {m["name"]: m.get("status", "") for m in row.report.get("milestones", [])}
            row.problems += report_problems(row.report, limits, pristine.test_counts)

        # Where did it write? Its own folder is its business; anything else is reported.
        edited = changed(kata_before, tree_hashes(kata))
        if edited:
            row.problems.append("modified the kata's own files during grading (its score cannot be trusted): "
                                + ", ".join(edited[:5]) + (" ..." if len(edited) > 5 else ""))
        outside = [p for p in changed(work_before, tree_hashes(work)) if not p.startswith(f"{name}/")]
        if outside:
            row.problems.append("wrote outside its own folder: " + ", ".join(outside[:5]))
        neighbours = pristine.submission_changes(name)
        if neighbours:
            row.problems.append("changed other submissions' files: " + ", ".join(neighbours))
        repository = pristine.repository_changes()
        if repository:
            row.problems.append("the repository's files changed while it was graded (by this submission or by "
                                "someone editing them; other rows use an unchanged copy): "
                                + ", ".join(repository[:5]) + (" ..." if len(repository) > 5 else ""))
    except Exception as error:  # a gradebook bug must not lose the other rows
        row.problems.append(f"the gradebook failed on this submission: {type(error).__name__}: {error}")
    finally:
        # Scratch paths mean nothing to the reader of the gradebook.
        row.problems = [p.replace(str(scratch / "work" / name), name).replace(str(scratch), "...")
                        for p in row.problems]
        if row.report is None:
            row.report = {"target": name, "score": 0.0, "max_score": row.max_score, "exercises": [],
                          "milestones": []}
        row.report["submission"] = name
        row.report["gradebook_problems"] = list(row.problems)
        row.seconds = round(time.perf_counter() - started, 1)
        shutil.rmtree(scratch, ignore_errors=True)
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
    exercises = manifest.load().names
    milestones = [m.name for m in manifest.load().milestones]
    (out / "reports").mkdir(parents=True, exist_ok=True)
    for row in rows:
        (out / "reports" / f"{row.name}.json").write_text(json.dumps(row.report, indent=2, default=float))
    csv_path = out / "gradebook.csv"
    header = (["name", "score", "max_score"] + [f"points:{e}" for e in exercises]
              + [f"milestone:{m}" for m in milestones] + ["problems", "seconds"])
    temporary = csv_path.with_suffix(".tmp")
    with open(temporary, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.name, f"{row.score:g}", f"{row.max_score:g}"]
                            + [f"{row.points[e]:g}" if e in row.points else "" for e in exercises]
                            + [row.milestones.get(m, "") for m in milestones]
                            + ["; ".join(row.problems), f"{row.seconds:g}"])
    temporary.replace(csv_path)
    json_path = out / "gradebook.json"
    data = dict(meta, rows=[{"name": r.name, "score": r.score, "max_score": r.max_score, "points": r.points,
                             "milestones": r.milestones, "problems": r.problems, "seconds": r.seconds,
                             "report": f"reports/{r.name}.json"} for r in rows])
    temporary = json_path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2))
    temporary.replace(json_path)
    return csv_path, json_path


def grade_all(directory: Path, out: Path, limits: Limits, *, milestones: bool = False, quick: bool = False,
              only: str | None = None, jobs: int = 1, say=print) -> list[Row]:
    """Grade every sub-folder of directory into out; returns the rows in name order.

    jobs > 1 grades that many submissions at once. Each row's own checks (its kata copy, its scratch
    folder) stay exact; a change to the repository or to DIR is then reported on the row that finished
    first after it.
    """
    submissions = discover(directory, out)
    if not submissions:
        say(f"No sub-folders in {directory}: put one folder per submission there.")
        return []
    problems = integrity.check()
    if problems:
        say("Warning: this repository's tests/ or grader/ differ from grader/integrity.json: "
            + ", ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
    say(f"Grading {_count(len(submissions), 'submission')} from {directory} "
        f"({'with' if milestones else 'without'} milestones; limits: {limits.memory_gb:g} GB memory, "
        f"{limits.cpu_seconds:g} s CPU per process, {limits.wall_seconds:g} s per submission)")
    # Two separate temporary folders: the private copies, and the scratch folders the submissions run in.
    with tempfile.TemporaryDirectory(prefix="kata-gradebook-private-") as private_root, \
            tempfile.TemporaryDirectory(prefix="kata-gradebook-") as scratch_root:
        private = Path(private_root)
        pristine = Pristine(private / "kata")
        pristine.watch_submissions(directory, [path.name for path in submissions])
        copies, copied = {}, {}
        for source in submissions:
            copies[source.name] = private / "submissions" / source.name
            _copy_regular_files(source, copies[source.name])
            copied[source.name] = tree_hashes(copies[source.name])

        def one(source: Path) -> Row:
            notes = []
            if tree_hashes(copies[source.name]) != copied[source.name]:
                notes.append("its files were changed by another submission during grading: regrade it alone")
            return grade_one(source.name, copies[source.name], Path(scratch_root), limits, milestones=milestones,
                             quick=quick, only=only, pristine=pristine, say=say, notes=notes)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            rows = list(pool.map(one, submissions))
    meta = {"directory": str(directory), "milestones": milestones, "integrity_problems": problems,
            "limits": {"memory_gb": limits.memory_gb, "cpu_seconds": limits.cpu_seconds,
                       "wall_seconds": limits.wall_seconds},
            "graded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    csv_path, json_path = write_outputs(rows, out, meta)
    troubled = [row.name for row in rows if row.problems]
    say(f"{_count(len(rows), 'submission')} graded" + (f"; {len(troubled)} with problems (see the problems column): "
                                              + ", ".join(troubled) if troubled else "; no problems."))
    say(f"Wrote {_shown(csv_path)}, {_shown(json_path)} and one report per submission in {_shown(out / 'reports')}.")
    return rows


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
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    args = parser.parse_args(argv)
    if not args.directory:
        print("Say which folder: make grade-all DIR=submissions/ (one sub-folder per submission)", file=sys.stderr)
        return 2
    directory = Path(args.directory).expanduser().resolve()
    if not directory.is_dir():
        print(f"make grade-all: {args.directory} is not a folder", file=sys.stderr)
        return 2
    wall = args.timeout or (DEFAULT_MILESTONE_TIMEOUT if args.milestones else DEFAULT_TIMEOUT)
    limits = Limits(memory_gb=args.memory_gb, cpu_seconds=args.cpu_seconds or wall, wall_seconds=wall)
    out = Path(args.out).expanduser().resolve() if args.out else DEFAULT_OUT
    grade_all(directory, out, limits, milestones=args.milestones, quick=args.quick, only=args.only, jobs=args.jobs,
              say=lambda *a, **k: print(*a, **k, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
