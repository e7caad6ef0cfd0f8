"""Milestone results cached by what they depend on, so that a repeated `make grade` re-runs only what changed.

A result is reused when all of these are unchanged:
  - the learner's files the milestone uses: the modules of its manifest `needs`, the modules its own
    code calls (its manifest `uses`), every module of the target those import in any static form
    (`import helpers`, `from .layers import Linear`, `from . import network`, packages too) as read from
    the source by the grader (never by running learner code), and the target's files that are not
    Python (data such as saved weights);
  - the kata version (report.kata_version: grader/, tests/ and solutions/, the manifest included) and the
    MNIST checksum list: any edit of the grader, the tests, the reference or the data invalidates everything;
  - quick or full mode, and the Python, NumPy and PyTorch versions.

Only verdicts that do not depend on how busy the machine was are stored: "passed" results, and
"failed" ones without "too_slow" (a too-slow run deserves another try on a quieter machine). "locked"
and "not-run" are never stored. The files live in .grade/milestone-cache/ (one JSON file per key).
"""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from grader.core import manifest
from grader.core import report as reports
from grader.core.manifest import DATA_DIR, ROOT

CACHE_DIR = ROOT / ".grade" / "milestone-cache"


def _environment() -> list[str]:
    versions = [platform.python_version()]
    for package in ("numpy", "torch"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} absent")
    return versions


def _module_files(target_dir: Path, module: str) -> list[Path]:
    """The target's files of one module: name.py, or every .py file of the package name/."""
    package = target_dir / module
    if package.is_dir():
        return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    single = target_dir / f"{module}.py"
    return [single] if single.is_file() else []


def learner_files(milestone: str, target_dir) -> list[Path]:
    """The target's files the milestone can use (the first point of the module docstring)."""
    target_dir = Path(target_dir)
    declared = manifest.load().milestone(milestone)
    pending = [need.split(".")[0] for need in declared.needs] + list(declared.uses)
    # A file that is not there is still part of the key (as missing): adding it later changes the result.
    files, seen = {target_dir / f"{module}.py" for module in pending}, set()
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            for path in _module_files(target_dir, module):
                files.add(path)
                pending.extend(manifest.imported_names(path.read_text(encoding="utf-8", errors="replace")) - seen)
    files.update(p for p in target_dir.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
                 and "__pycache__" not in p.parts and not p.name.startswith("."))
    return sorted(files)


def _path(milestone: str, target_dir, quick: bool) -> Path:
    """Where the result is kept, named by the key: the milestone, its learner files' contents, the kata
    version, the mode and the versions."""
    files = learner_files(milestone, target_dir)
    contents = [item for p in files for item in (p.name, p.read_bytes() if p.exists() else b"<missing>")]
    checksums = DATA_DIR / "mnist" / "SHA256SUMS"
    digest = hashlib.sha256()
    for part in [milestone, "quick" if quick else "full", reports.kata_version(), *_environment(),
                 checksums.read_bytes() if checksums.exists() else b"<missing>", *contents]:
        digest.update((part if isinstance(part, bytes) else str(part).encode()) + b"\0")
    return CACHE_DIR / f"{milestone}-{digest.hexdigest()[:32]}.json"


def cached(milestone: str, target_dir, *, quick: bool = False) -> dict | None:
    """The stored result of this milestone for these files and this kata version, or None."""
    result = reports.read(_path(milestone, target_dir, quick))
    return {**result, "cached": True} if isinstance(result, dict) and cacheable(result) else None


def cacheable(result: dict) -> bool:
    status = result.get("status")
    return status == "passed" or (status == "failed" and not result.get("too_slow"))


def store(milestone: str, target_dir, result: dict, *, quick: bool = False) -> bool:
    """Remember `result` for these files and this kata version; False when it is not worth keeping."""
    if not cacheable(result):
        return False
    reports.write({k: v for k, v in result.items() if k != "cached"}, _path(milestone, target_dir, quick))
    return True
