"""The machinery every exercise relies on, part one: choosing and importing targets, and generating stubs
from the solutions' marked regions."""

from __future__ import annotations

import pytest

from grader.core import stubs as stubgen
from grader.core import target as targets
from grader.core.manifest import EXERCISES_DIR, SOLUTIONS_DIR


# --- targets -------------------------------------------------------------------------------------

def test_the_target_comes_from_the_argument_then_the_environment_then_defaults_to_exercises(monkeypatch):
    monkeypatch.delenv("KATA_TARGET", raising=False)
    assert targets.resolve(None) == EXERCISES_DIR.resolve()
    monkeypatch.setenv("KATA_TARGET", "solutions")
    assert targets.resolve(None) == SOLUTIONS_DIR.resolve()
    assert targets.resolve("exercises") == EXERCISES_DIR.resolve()


def _load(target, name: str, own=None):
    """The module `name` of the target, other modules from the reference unless own=None."""
    return targets.module(targets.load_package(target, own), name)


def test_a_directory_target_is_a_package_whose_modules_import_each_other(tmp_path):
    (tmp_path / "layers.py").write_text("MARK = 'mine'\n")
    (tmp_path / "activations.py").write_text("from .layers import MARK\n")
    own_everything = _load(tmp_path, "activations")
    assert own_everything.MARK == "mine"


def test_a_mixed_package_takes_only_the_named_exercise_from_the_target(tmp_path):
    (tmp_path / "layers.py").write_text("MARK = 'mine'\n")
    (tmp_path / "activations.py").write_text("from .layers import Linear\n")
    mixed = _load(tmp_path, "activations", own={"activations"})
    assert mixed.Linear.__module__.endswith(".layers"), "Linear should come from the reference layers"
    assert not hasattr(_load(tmp_path, "layers", own={"activations"}), "MARK")


def test_a_missing_module_in_the_target_gives_a_sentence(tmp_path):
    (tmp_path / "layers.py").write_text("\n")
    with pytest.raises(ImportError, match="has no init.py"):
        _load(tmp_path, "init", own={"init"})


def test_bad_targets_are_refused_with_a_reason(tmp_path):
    with pytest.raises(targets.TargetError, match="does not exist"):
        targets.resolve(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("")
    with pytest.raises(targets.TargetError, match="is a file"):
        targets.resolve(tmp_path / "file.txt")
    with pytest.raises(targets.TargetError, match="none of the exercise files"):
        targets.resolve(tmp_path)


# --- stub generation -----------------------------------------------------------------------------

SOLUTION = '''"""Doc."""


def helper_only_the_solution_needs():
    return 1


# <exercise>
def module_level_helper():
    return 2

# </exercise>

class Thing:
    def method(self, x):
        """Keep this docstring."""
        # <exercise>
        return x * 2
        # </exercise>
'''


def test_a_stub_keeps_docstrings_and_replaces_marked_bodies_with_a_named_not_implemented_error():
    stub = stubgen.make_stub(SOLUTION, "demo")
    assert "Keep this docstring." in stub
    assert "return x * 2" not in stub
    assert "raise NotImplementedError('demo: Thing.method is not implemented yet." in stub
    assert "module_level_helper" not in stub
    assert "helper_only_the_solution_needs" in stub
    namespace = {}
    exec(compile(stub, "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="demo: Thing.method"):
        namespace["Thing"]().method(1)


@pytest.mark.parametrize("broken, problem", [
    ("def f():\n    # <exercise>\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # </exercise>\n", "without"),
    ("def f():\n    # <exercise>\n    # <exercise>\n    return 1\n    # </exercise>\n", "nested"),
])
def test_unbalanced_markers_are_reported(broken, problem):
    with pytest.raises(stubgen.MarkerError, match=problem):
        stubgen.make_stub(broken, "demo")
