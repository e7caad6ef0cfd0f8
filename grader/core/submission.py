"""One submission graded in isolation: find its exercise files, copy them privately, grade them with
limits (grader/core/grading.py), and keep the outcome as a row. `make grade-all` (instructor/gradebook.py)
grades a folder of these and Gradescope (platforms/gradescope/autograde.py) grades one.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.core import grading, manifest, sandbox
from grader.core.grading import copy_sources, files_hash  # noqa: F401  (part of this module's API)
from grader.core import target as targets
from grader.core.report import GRADING_PROBLEMS

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


def submission_files(source: Path) -> Path:
    """The folder holding the exercise files: the submission itself, or a single sub-folder (a zip that
    unpacked into alice/exercises/ or alice/kata-main/exercises/)."""
    names = {ex.module_file for ex in manifest.load().exercises}
    if any((source / name).is_file() for name in names):
        return source
    candidates = [p.parent for p in source.rglob("*.py") if p.name in names and "__pycache__" not in p.parts]
    folders = sorted(set(candidates), key=lambda p: (len(p.parts), str(p)))
    return folders[0] if folders else source


def report_problems(report: dict, limits: Limits) -> list[str]:
    """Plain-language problems from a grade report: exercises that could not be graded properly."""
    problems, memory_hit = [], False
    for entry in report.get("exercises", []):
        status = entry.get("status", "")
        messages = [t.get("message", "") for t in entry.get("tests", [])] + [entry.get("problem") or ""]
        memory_hit |= any("MemoryError" in m or "Cannot allocate memory" in m for m in messages)
        exits = [t for t in entry.get("tests", []) if t.get("kind") == "SystemExit"]
        if exits and status not in GRADING_PROBLEMS:
            where = f" ({exits[0]['where']})" if exits[0].get("where") else ""
            problems.append(f"{entry.get('name')}: the code calls sys.exit(){where}, which ends the program that "
                            "runs it: raise an exception or return instead")
        if status in GRADING_PROBLEMS:
            detail = " ".join(str(entry.get("detail") or entry.get("problem") or "").split())
            detail = detail if len(detail) <= 240 else detail[:237] + "..."
            problems.append(f"{entry.get('name')}: {status}: {detail}")
    if memory_hit:
        problems.append(f"ran out of memory: it tried to use more than the {limits.memory_gb:g} GB limit")
    if not report.get("tamper_proof", True):
        problems.append(report.get("isolation") or sandbox.NOT_TAMPER_PROOF)
    return problems


def grade_one(name: str, source: Path, limits: Limits, *, milestones: bool, quick: bool, only: str | None,
              seed: int, say=print, env: dict | None = None) -> Row:
    """Grade one submission (a private copy); never raises for anything the submission does. `env`: more
    variables for its judge (the gradebook turns the edit search off)."""
    kata = manifest.load()
    names = [n for n in kata.names if not only or n in only.split(",")]
    row = Row(name=name, max_score=float(sum(kata.exercise(n).points for n in names)))
    started = time.perf_counter()
    cgroup = sandbox.CGroup(limits.for_workers())
    try:
        target = targets.resolve(str(submission_files(source)))
        with tempfile.TemporaryDirectory(prefix="kata-milestones-") as milestone_dir:
            row.report = grading.grade_target(
                kata, target, names, milestones=milestones, quick=quick, say=grading.quiet,
                milestone_dir=Path(milestone_dir), seed=seed,
                worker_env=sandbox.limits_environment(limits.for_workers(), cgroup) | (env or {}),
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
