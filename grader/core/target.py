"""Find a target directory and import it as a package.

A *target* is what gets graded: `exercises` (the learner's stubs, the default), `solutions` (the
reference), or the path of any directory holding the same module files (an instructor's submission
folder). It is chosen by `--target`, else the environment variable KATA_TARGET, else `exercises`.

A target is imported as a package of its own, so its modules may import each other relatively
(`from .layers import Layer`). `load_package(target, own={"activations"})` builds a *mixed* package:
the modules named in `own` come from the target and every other module from `solutions/`. The tests of
exercise K use such a package, so a bug in the learner's `layers.py` fails the layers tests only, not
every exercise built on top of it. Milestones use the target's own modules throughout (`own=None`).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.abc
import importlib.util
import os
import sys
import types
from pathlib import Path

from grader.core.manifest import EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from grader.core import manifest as _manifest

ENV_VAR = "KATA_TARGET"
NAMED_TARGETS = {"exercises": EXERCISES_DIR, "solutions": SOLUTIONS_DIR}


class TargetError(ValueError):
    """The target cannot be graded; the message says why in a sentence."""


def resolve(spec: str | os.PathLike | None = None) -> Path:
    """Turn a --target value (or KATA_TARGET, or nothing) into an existing directory."""
    spec = str(spec or "") or os.environ.get(ENV_VAR) or "exercises"
    path = (NAMED_TARGETS.get(spec) or Path(spec).expanduser()).resolve()  # a relative path: from the cwd
    if not path.exists():
        raise TargetError(f"the target {spec!r} does not exist (looked for {path})")
    if not path.is_dir():
        raise TargetError(f"the target {spec!r} is a file; give the directory that holds layers.py etc.")
    known = [ex.module_file for ex in _manifest.load().exercises]
    if not any((path / name).exists() for name in known):
        raise TargetError(f"the target {spec!r} ({path}) holds none of the exercise files ({', '.join(known)}); "
                          "is it the right folder?")
    return path


def argument(spec: str) -> Path:
    """resolve() as the argparse type of a command's --target (default "": KATA_TARGET, else exercises): a
    target that cannot be graded is a usage error, said in its sentence (exit status 2)."""
    try:
        return resolve(spec)
    except TargetError as error:
        raise argparse.ArgumentTypeError(error.args[0]) from None


def display_name(path: Path) -> str:
    """`exercises`, `solutions`, or the path relative to the repository when it is inside it."""
    for name, named_path in NAMED_TARGETS.items():
        if path == named_path.resolve():
            return name
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


class _MixedPackageFinder(importlib.abc.MetaPathFinder):
    """Serves the submodules of packages made by `load_package` from the right directory."""

    def __init__(self) -> None:
        self.packages: dict[str, tuple[Path, frozenset[str] | None]] = {}

    def find_spec(self, fullname, path=None, target=None):
        package, dot, module = fullname.rpartition(".")
        if package not in self.packages or not dot:
            return None
        target_dir, own = self.packages[package]
        # solutions/, or in a worker without namespaces the copy of its exercise's dependencies only
        # (KATA_REFERENCE_DIR, set by the judge).
        reference = Path(os.environ.get("KATA_REFERENCE_DIR") or SOLUTIONS_DIR)
        takes_from_target = own is None or module in own or not (reference / f"{module}.py").exists()
        directory = target_dir if takes_from_target else reference
        file = directory / f"{module}.py"
        if not file.exists():
            if takes_from_target and ((reference / f"{module}.py").exists() or module in _manifest.load().names):
                raise ImportError(f"the target {display_name(target_dir)} has no {module}.py (copy "
                                  f"exercises/{module}.py into it to start that exercise)", name=fullname)
            return None
        return importlib.util.spec_from_file_location(fullname, file)


_FINDER = _MixedPackageFinder()
_PACKAGES: dict[tuple[Path, frozenset[str] | None], types.ModuleType] = {}


def load_package(target: str | os.PathLike | None = None, own=None) -> types.ModuleType:
    """Import a target as a package (see the module docstring for `own`); its submodules are imported
    lazily, by `module(pkg, "layers")`."""
    target_dir = target if isinstance(target, Path) and target.is_absolute() else resolve(target)
    own_set = None if own is None else frozenset([own] if isinstance(own, str) else own)
    key = (target_dir, own_set)
    if key in _PACKAGES:
        return _PACKAGES[key]
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    label = f"{target_dir}|{sorted(own_set) if own_set is not None else '*'}"  # a name of its own per mix
    name = "kata_" + hashlib.sha1(label.encode()).hexdigest()[:12]
    package = types.ModuleType(name, f"target {display_name(target_dir)}")
    package.__path__ = []  # a package; its submodules come only from _FINDER
    package.__package__ = name
    package.__kata_target__ = target_dir
    sys.modules[name] = package
    _FINDER.packages[name] = (target_dir, own_set)
    _PACKAGES[key] = package
    return package


def module(package: types.ModuleType, name: str) -> types.ModuleType:
    """Import (once) and return the submodule `name` of a package made by load_package."""
    return importlib.import_module(f"{package.__name__}.{name}")


class Modules:
    """Attribute access to the modules of a package made by load_package: `m.layers` imports lazily."""

    def __init__(self, package: types.ModuleType):
        self._package = package

    def __getattr__(self, name: str) -> types.ModuleType:
        if name.startswith("_"):
            raise AttributeError(name)
        return module(self._package, name)

    def __repr__(self) -> str:
        return f"<modules of {self._package.__doc__}>"
