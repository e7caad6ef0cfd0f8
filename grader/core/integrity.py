"""Detect edited tests or grader: every file under tests/ and grader/ against a record derived when needed.

A learner who edits a test, adds a conftest.py or changes the grader in their own copy changes only their
own local grade (the authoritative grade is the instructor's, judged from a pristine kata), but the local
report should say so. The record is never committed by hand:
- in a git checkout, the files are compared with the committed versions (`git status` of tests/ and
  grader/), so nothing needs regenerating after an edit that is committed;
- a student release (`make release`) and the Gradescope zip carry grader/integrity.json, written by
  `write()` or `record()` as they are built, and `check()` compares with it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from grader.core import report as reports
from grader.core.manifest import ROOT

RECORD = Path("grader") / "integrity.json"
TREES = ("tests", "grader")
CACHES = {"__pycache__", ".pytest_cache", ".grade", ".kata", ".decoded"}


def is_cache(relative: Path) -> bool:
    """A run's by-product (bytecode, pytest's cache, grades, the learner's state): never shipped nor checked."""
    return bool(CACHES & set(relative.parts)) or relative.suffix in (".pyc", ".pyo")


def _included(relative: Path) -> bool:
    hidden = any(part.startswith(".") and part != "." for part in relative.parts)
    return relative != RECORD and not hidden and not is_cache(relative)


def tree_files(root: Path, trees, files=(), *, leave_out=lambda relative: False) -> list[Path]:
    """The `files` that exist, then every regular file under the `trees` (sorted; symbolic links left out),
    relative to root, without caches, the record (each copy writes its own) and what `leave_out` names:
    what a release or the Gradescope zip copies."""
    found = [Path(name) for name in files if (root / name).is_file()]
    for tree in trees:
        for path in sorted((root / tree).rglob("*")):
            relative = path.relative_to(root)
            skipped = is_cache(relative) or relative == RECORD or leave_out(relative)
            if path.is_file() and not path.is_symlink() and not skipped:
                found.append(relative)
    return found


def hashes(root: Path = ROOT) -> dict[str, str]:
    """{path relative to root, with /: sha256} for every checked file under tests/ and grader/."""
    found = {}
    for tree in TREES:
        for path in sorted((root / tree).rglob("*")):
            relative = path.relative_to(root)
            if path.is_symlink() and _included(relative):  # recorded as what it points to, never followed
                found[relative.as_posix()] = "symlink:" + str(path.readlink())
            elif path.is_file() and _included(relative):
                found[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def recorded(root: Path = ROOT) -> dict[str, str] | None:
    path = root / RECORD
    try:
        return dict(json.loads(path.read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """'modified: tests/exercises/test_layers.py', 'missing: ...', 'extra: ...', sorted by path."""
    return [f"{'missing' if path not in actual else 'extra' if path not in expected else 'modified'}: {path}"
            for path in sorted(set(expected) | set(actual)) if expected.get(path) != actual.get(path)]


def _git_changes(root: Path) -> list[str] | None:
    """Files under tests/ and grader/ that differ from the last commit, or None outside a git checkout."""
    import subprocess

    try:
        completed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", *TREES],
                                   cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    words = {"M": "modified", "A": "extra", "?": "extra", "D": "missing", "R": "modified"}
    changes = sorted((line[3:].strip(), line[:2].strip() or "M") for line in completed.stdout.splitlines())
    return [f"{words.get(code[0], 'modified')}: {path}" for path, code in changes if _included(Path(path))]


def check(root: Path = ROOT) -> list[str]:
    """Every file under tests/ and grader/ that differs from the record (grader/integrity.json in a release,
    else the last git commit), as 'modified: PATH', 'missing: PATH' or 'extra: PATH'; [] when all match."""
    expected = recorded(root)
    if expected is not None:
        return differences(expected, hashes(root))
    changes = _git_changes(root)
    if changes is not None:
        return changes
    return [f"missing: {RECORD.as_posix()} (no record of the test and grader files, and no git history)"]


def record(root: Path = ROOT, shipped: set[str] | None = None) -> dict:
    """What grader/integrity.json holds: the hashes of the checked files (of those `shipped` only, if given)."""
    files = {path: digest for path, digest in hashes(root).items() if shipped is None or path in shipped}
    return {"algorithm": "sha256", "files": files, "trees": list(TREES)}


def write(root: Path = ROOT) -> Path:
    reports.write(record(root), root / RECORD)
    return root / RECORD
