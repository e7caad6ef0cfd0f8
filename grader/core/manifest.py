"""Read grader/manifest.toml, the single list of exercises and milestones.

Nothing else in the repository lists exercises: the grader, the hint command, the README's exercise map,
pytest's markers and the contract tests all come through `load()`.
"""

from __future__ import annotations

import ast
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_PATH = ROOT / "grader" / "manifest.toml"
SOLUTIONS_DIR = ROOT / "solutions"
EXERCISES_DIR = ROOT / "exercises"
TESTS_DIR = ROOT / "tests"
EXERCISE_TESTS_DIR = TESTS_DIR / "exercises"  # one test_<name>.py per exercise
DATA_DIR = ROOT / "data"

DEFAULT_TEST_TIMEOUT = 10  # seconds per test; vectorised code needs well under one


@dataclass(frozen=True)
class Exercise:
    number: int
    name: str
    title: str
    points: float
    needs: tuple[str, ...]
    stretch: bool
    teaches: str
    hints: tuple[str, ...]
    parts: dict[str, str] = field(default_factory=dict)
    test_timeout: float = DEFAULT_TEST_TIMEOUT

    @property
    def module_file(self) -> str:
        return f"{self.name}.py"

    @property
    def time_limit(self) -> float:
        """Per-test limit in seconds; KATA_TEST_TIMEOUT overrides it (the grader's own tests use 2 s)."""
        override = os.environ.get("KATA_TEST_TIMEOUT")
        return float(override) if override else self.test_timeout

    @property
    def test_file(self) -> Path:
        return EXERCISE_TESTS_DIR / f"test_{self.name}.py"

    @property
    def test_files(self) -> list[Path]:
        """test_<name>.py, then the topics its tests are split into: test_<name>_<topic>.py."""
        return [self.test_file, *sorted(EXERCISE_TESTS_DIR.glob(f"test_{self.name}_*.py"))]


@dataclass(frozen=True)
class Milestone:
    name: str
    title: str
    needs: tuple[str, ...]
    module: str
    stretch: bool
    uses: tuple[str, ...] = ()   # exercise modules the milestone's own code calls, beyond its needs
    time_limit: float = 600.0    # seconds before the grader kills the milestone's process


@dataclass(frozen=True)
class Manifest:
    exercises: tuple[Exercise, ...]
    milestones: tuple[Milestone, ...]

    @property
    def names(self) -> list[str]:
        return [ex.name for ex in self.exercises]

    def exercise(self, name: str) -> Exercise:
        return _named(self.exercises, name, "exercise")

    def reference_modules(self, name: str) -> list[str]:
        """The reference modules a worker grading exercise `name` may see: what its tests build on (the
        closure of `needs`, and what those modules import), never `name` itself."""
        seen, stack = [], [name]
        while stack:
            module = stack.pop().split(".")[0]
            if module in self.names and module not in seen:
                seen.append(module)
                solution = SOLUTIONS_DIR / f"{module}.py"
                imports = imported_names(solution.read_text(), relative=True) if solution.exists() else set()
                stack += list(self.exercise(module).needs) + sorted(imports)
        return sorted(module for module in seen if module != name)

    def milestone(self, name: str) -> Milestone:
        return _named(self.milestones, name, "milestone")


def _named(items, name: str, kind: str):
    """The item called `name`; KeyError naming the known ones otherwise."""
    for item in items:
        if item.name == name:
            return item
    known = ", ".join(item.name for item in items)
    raise KeyError(f"there is no {kind} called {name!r}; the {kind}s are: {known}")


def exercise_of_test(path) -> str | None:
    """The exercise a test file (or a test id, "tests/exercises/test_<name>[_<topic>].py::...") belongs to:
    the file name is the one link from a test to its exercise, when the manifest has that exercise."""
    stem = Path(str(path).split("::")[0]).stem
    found = [name for name in load().names if stem == f"test_{name}" or stem.startswith(f"test_{name}_")]
    return max(found, key=len, default=None)


def imported_names(source: str, relative: bool = False) -> set[str]:
    """The top-level module names a module's source imports, in every static form (import x, import x.y,
    from x import y, from . import x, from .x import y, from .. import x); relative=True: only the
    relative ones (a kata module's imports of its sibling modules). Learner code may not import
    dynamically (grader/core/policy.py), so these are all the modules it can reach."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and not relative:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.level or not relative):
            found.update([node.module] if node.module else [alias.name for alias in node.names])
    return {name.split(".")[0] for name in found}


class ManifestError(ValueError):
    """The manifest is malformed; the message says where."""


def _exercise_from(number: int, entry: dict) -> Exercise:
    required = ("name", "title", "points", "needs", "stretch", "teaches", "hints")
    missing = [key for key in required if key not in entry]
    if missing:
        raise ManifestError(f"exercise #{number} in {MANIFEST_PATH.name} lacks {', '.join(missing)}")
    if len(entry["hints"]) < 3:
        raise ManifestError(f"exercise {entry['name']!r} needs at least three hints")
    return Exercise(number=number, name=entry["name"], title=entry["title"], points=float(entry["points"]),
                    needs=tuple(entry["needs"]), stretch=bool(entry["stretch"]), teaches=entry["teaches"],
                    hints=tuple(entry["hints"]), parts=dict(entry.get("parts", {})),
                    test_timeout=float(entry.get("test_timeout", DEFAULT_TEST_TIMEOUT)))


def _check_references(manifest: Manifest) -> None:
    names = set(manifest.names)
    for ex in manifest.exercises:
        unknown = [need for need in ex.needs if need not in names]
        if unknown:
            raise ManifestError(f"exercise {ex.name!r} needs unknown exercises {unknown}")
    for ms in manifest.milestones:
        for need in ms.needs:
            name, _, part = need.partition(".")
            if name not in names:
                raise ManifestError(f"milestone {ms.name!r} needs unknown exercise {name!r}")
            if part and part not in manifest.exercise(name).parts:
                raise ManifestError(f"milestone {ms.name!r} needs unknown part {need!r}")
        unknown = [name for name in ms.uses if name not in names]
        if unknown:
            raise ManifestError(f"milestone {ms.name!r} uses unknown exercises {unknown}")


@lru_cache(maxsize=None)
def load(path: Path = MANIFEST_PATH) -> Manifest:
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    exercises = tuple(_exercise_from(i, entry) for i, entry in enumerate(raw.get("exercise", []), 1))
    milestones = tuple(Milestone(name=entry["name"], title=entry["title"], needs=tuple(entry["needs"]),
                                 module=entry["module"], stretch=bool(entry.get("stretch", False)),
                                 uses=tuple(entry.get("uses", ())), time_limit=float(entry.get("time_limit", 600)))
                       for entry in raw.get("milestone", []))
    manifest = Manifest(exercises, milestones)
    _check_references(manifest)
    return manifest
