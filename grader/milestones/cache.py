"""Milestone results cached by what they depend on, so that a repeated `make grade` re-runs only what changed.

A result is reused when all of these are unchanged:
  - the learner's files the milestone uses: the modules of its manifest `needs`, the modules its own
    code calls (USES below), and every module of the target those import, followed through their
    relative imports (`from .layers import Linear`, `from . import network`) as read from the source
    by the grader (never by running learner code);
  - the kata version: every .py file of grader/ and solutions/ plus grader/manifest.toml and the MNIST
    checksum list (any edit of the grader, the reference or the data invalidates everything);
  - quick or full mode, and the Python, NumPy and PyTorch versions.

    result = cached("mnist", target_dir)          # the stored result, with "cached": True, or None
    store("mnist", target_dir, result)            # True if stored

Only verdicts that do not depend on how busy the machine was are stored: "passed" results, and
"failed" ones without "too_slow" (a too-slow run deserves another try on a quieter machine). "locked"
and "not-run" are never stored. The files live in .grade/milestone-cache/ (one JSON file per key).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path

from grader.core.manifest import DATA_DIR, MANIFEST_PATH, ROOT, SOLUTIONS_DIR

GRADER_DIR = ROOT / "grader"

CACHE_DIR = ROOT / ".grade" / "milestone-cache"
# Modules each milestone's code calls directly (beyond its manifest needs).
USES = {"mnist": ("training", "losses", "optim", "layers", "activations", "network", "init"),
        "speed": ("layers", "activations", "network", "losses", "optim"),
        "cnn": ("conv", "training", "losses", "optim"), "autograd_mnist": ("autograd", "optim", "training"),
        "stability": ("stability",)}


def _name(milestone) -> str:
    return milestone if isinstance(milestone, str) else milestone.name


def _sha256(parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def kata_version() -> str:
    """One hash of the grader, the reference, the manifest and the data checksums."""
    files = sorted(p for directory in (GRADER_DIR, SOLUTIONS_DIR) for p in directory.rglob("*.py")
                   if "__pycache__" not in p.parts)
    files += [MANIFEST_PATH, DATA_DIR / "mnist" / "SHA256SUMS"]
    return _sha256(item for p in files if p.exists() for item in (p.relative_to(ROOT).as_posix(), p.read_bytes()))


def _environment() -> list[str]:
    versions = [platform.python_version()]
    for package in ("numpy", "torch"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} absent")
    return versions


def relative_imports(source: str) -> set[str]:
    """The sibling modules a module's source imports relatively (from . import x, from .x import y)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def learner_files(milestone, target_dir) -> list[Path]:
    """The target's files the milestone can use: its needs and USES, closed under relative imports."""
    from grader.core import manifest

    name = _name(milestone)
    needs = [need.split(".")[0] for need in manifest.load().milestone(name).needs]
    pending, seen = list(dict.fromkeys([*needs, *USES.get(name, ())])), set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = Path(target_dir) / f"{module}.py"
        if path.exists():
            pending.extend(relative_imports(path.read_text(encoding="utf-8", errors="replace")) - seen)
    return sorted(Path(target_dir) / f"{module}.py" for module in seen)


def key(milestone, target_dir, *, quick: bool = False) -> str:
    """The cache key: the milestone, its learner files' contents, the kata version, mode, versions."""
    files = learner_files(milestone, target_dir)
    contents = [item for p in files
                for item in (p.name, p.read_bytes() if p.exists() else b"<missing>")]
    return _sha256([_name(milestone), "quick" if quick else "full", kata_version(), *_environment(), *contents])


def _path(milestone, target_dir, quick: bool, cache_dir) -> Path:
    return Path(cache_dir or CACHE_DIR) / f"{_name(milestone)}-{key(milestone, target_dir, quick=quick)[:32]}.json"


def cached(milestone, target_dir, *, quick: bool = False, cache_dir=None) -> dict | None:
    """The stored result of this milestone for these files and this kata version, or None."""
    try:
        result = json.loads(_path(milestone, target_dir, quick, cache_dir).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict) or not cacheable(result):
        return None
    return {**result, "cached": True}


def cacheable(result: dict) -> bool:
    status = result.get("status")
    return status == "passed" or (status == "failed" and not result.get("too_slow"))


def store(milestone, target_dir, result: dict, *, quick: bool = False, cache_dir=None) -> bool:
    """Remember `result` for these files and this kata version; False when it is not worth keeping."""
    if not cacheable(result):
        return False
    path = _path(milestone, target_dir, quick, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = {k: v for k, v in result.items() if k != "cached"}
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(stored, indent=1, default=float))
    os.replace(temporary, path)  # atomic: a reader never sees half a file
    return True
