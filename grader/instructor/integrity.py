"""Detect edited tests or grader: SHA-256 of every file under tests/ and grader/, kept in grader/integrity.json.

A learner (or a submission) that edits a test, adds a conftest.py that patches the checks, or changes the
grader would otherwise get points it did not earn. `make integrity` records the hashes of the committed
files (maintainers run it after changing tests or grader, and commit the result); `make grade` and
`make grade-all` call `check()` and report every difference.

Usage: python -m grader.instructor.integrity [--update]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from grader.core.manifest import ROOT

RECORD = Path("grader") / "integrity.json"
TREES = ("tests", "grader")
# Caches and the record itself are not part of what is checked.
SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def _included(relative: Path) -> bool:
    if relative == RECORD:
        return False
    if any(part in SKIPPED_PARTS or (part.startswith(".") and part != ".") for part in relative.parts):
        return False
    return relative.suffix not in SKIPPED_SUFFIXES


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def hashes(root: Path = ROOT) -> dict[str, str]:
    """{path relative to root, with /: sha256} for every checked file under tests/ and grader/."""
    found = {}
    for tree in TREES:
        base = root / tree
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and _included(relative):
                found[relative.as_posix()] = sha256(path)
            elif path.is_symlink() and _included(relative):
                found[relative.as_posix()] = "symlink:" + str(path.readlink())
    return found


def recorded(root: Path = ROOT) -> dict[str, str] | None:
    path = root / RECORD
    try:
        return dict(json.loads(path.read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """'modified: tests/exercises/test_layers.py', 'missing: ...', 'extra: ...', sorted by path."""
    problems = []
    for path in sorted(set(expected) | set(actual)):
        if path not in actual:
            problems.append(f"missing: {path}")
        elif path not in expected:
            problems.append(f"extra: {path}")
        elif expected[path] != actual[path]:
            problems.append(f"modified: {path}")
    return problems


def check(root: Path = ROOT) -> list[str]:
    """Every file under tests/ and grader/ that differs from grader/integrity.json, as
    'modified: PATH', 'missing: PATH' or 'extra: PATH'; [] when all match.

    When the record itself is missing or unreadable the list says so in one entry.
    """
    expected = recorded(root)
    if expected is None:
        return [f"missing: {RECORD.as_posix()} (the record of the test and grader files; `make integrity`)"]
    return differences(expected, hashes(root))


def write(root: Path = ROOT) -> Path:
    path = root / RECORD
    files = hashes(root)
    text = json.dumps({"algorithm": "sha256", "trees": list(TREES), "files": files}, indent=1, sort_keys=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text + "\n")
    temporary.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="record the current files (maintainers)")
    args = parser.parse_args(argv)
    if args.update:
        path = write()
        print(f"recorded {len(recorded()):d} files in {path.relative_to(ROOT)}")
        return 0
    problems = check()
    if not problems:
        print("tests/ and grader/ match grader/integrity.json.")
        return 0
    print("tests/ or grader/ differ from grader/integrity.json:")
    for problem in problems:
        print("  " + problem)
    return 1


if __name__ == "__main__":
    sys.exit(main())
