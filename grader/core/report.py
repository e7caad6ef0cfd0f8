"""The grade report: one model, written by grade and grade-all, read by progress, hint, watch and export.

A report is JSON (`.grade/report.json`, and one per submission in a gradebook). Its status words are
the values of the enums below, so every reader compares against the same names.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path

from grader.core.manifest import ROOT

REPORT_FORMAT = 2  # bumped when the report's shape changes


class ExerciseStatus(StrEnum):  # str(status) and JSON give the word itself
    DONE = "done"
    IN_PROGRESS = "in progress"
    FAILING = "failing"
    NOT_STARTED = "not started"
    TIMED_OUT = "timed out"
    CRASHED = "crashed"
    IMPORT_ERROR = "import error"
    SYNTAX_ERROR = "syntax error"
    FORBIDDEN_IMPORT = "forbidden import"
    ERROR = "error"


class MilestoneStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    LOCKED = "locked"
    NOT_RUN = "not-run"


# Statuses that mean the exercise could not be graded normally: the gradebook lists them as problems.
GRADING_PROBLEMS = frozenset({ExerciseStatus.CRASHED, ExerciseStatus.ERROR, ExerciseStatus.TIMED_OUT,
                              ExerciseStatus.IMPORT_ERROR, ExerciseStatus.SYNTAX_ERROR,
                              ExerciseStatus.FORBIDDEN_IMPORT})


def exercise_done(entry: dict) -> bool:
    """An exercise entry of a report whose every test passed."""
    total = entry.get("total") or 0
    return entry.get("status") == ExerciseStatus.DONE or (total > 0 and entry.get("passed") == total)


@functools.lru_cache(maxsize=1)
def kata_version() -> str:
    """A short hash of the grader, the tests and the reference: two reports with the same version were
    graded by the same kata (export, the milestone cache and grade-all's resume compare it)."""
    digest = hashlib.sha256()
    for tree in ("grader", "tests", "solutions"):
        for path in sorted((ROOT / tree).rglob("*.py")) + sorted((ROOT / tree).rglob("*.toml")):
            if "__pycache__" not in path.parts:
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def write(report: dict, path: Path) -> None:
    """Write JSON atomically: a reader never sees half a report, a crash never leaves one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".report-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(report, out, indent=2, default=float)  # NumPy scalars; the statuses are str already
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_lines(path: Path) -> list:
    """The values of a JSON-lines file in order ([] when it is missing); a line cut short by a killed
    writer is skipped, not fatal."""
    values = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []:
        try:
            values.append(json.loads(line))
        except ValueError:
            continue
    return values


def read(path: Path) -> dict | None:
    """A report, or None when the file is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
