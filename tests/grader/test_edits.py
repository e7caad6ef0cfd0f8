"""The judge's search for one edit of the reference that reproduces a failing run (grader/feedback/edits.py):
which edits it tries, when an edit's values count as the learner's, and what the message says."""

from __future__ import annotations

import ast
import tempfile
import types
from pathlib import Path

import numpy as np
import pytest

from grader.core import manifest, wire
from grader.core.runner import run_exercise
from grader.feedback import edits
from grader.maintainer.mutation import Mutant, build

SOURCE = '''import numpy as np


def scale(x, factor):
    """Outside the markers: never edited."""
    return x * factor


def shifted_sum(x, shift):
    # <exercise>
    total = np.sum(x - shift, axis=0)
    return total
    # </exercise>
'''


def edited_versions(functions=("shifted_sum",)):
    """{words: the edited module's shifted_sum} for every edit of SOURCE."""
    module = types.ModuleType("kata_edits_example")
    module.__file__ = "example.py"
    tree, candidates = edits.candidates(SOURCE, list(functions))
    versions = {str(edit): edits.build(tree, apply, module).shifted_sum for edit, apply in candidates}
    assert ast.unparse(tree) == ast.unparse(ast.parse(SOURCE)), "an edit was not undone"
    return versions


def test_edits_stay_inside_the_exercise_markers_of_the_functions_named():
    assert edited_versions(()) == {}
    assert not any("factor" in words for words in edited_versions())


def test_an_edited_copy_computes_the_edited_formula_and_the_source_tree_is_left_as_it_was():
    versions = edited_versions()
    x = np.arange(6.0).reshape(3, 2)
    plus = next(f for words, f in versions.items() if "`+` in place of `-`" in words)
    np.testing.assert_allclose(plus(x, 1.0), np.sum(x + 1.0, axis=0))
    other_axis = next(f for words, f in versions.items() if "`axis=1` in place of `axis=0`" in words)
    np.testing.assert_allclose(other_axis(x, 1.0), np.sum(x - 1.0, axis=1))
    assert any("`mean` in place of `sum`" in words for words in versions)
    assert any("left out" in words for words in versions)
    assert len(versions) > 20


def test_a_value_is_reproduced_only_to_rounding_and_only_when_it_is_far_closer_than_the_reference():
    reference = np.array([1.0, 2.0, 3.0])
    yours = np.array([1.0, 2.0, 3.3])
    assert edits.same(yours, yours * (1 + 1e-9), reference)
    assert not edits.same(yours, reference, reference)
    assert not edits.same(yours, yours.astype(np.float32), reference)  # the dtype is part of the value
    assert not edits.same(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), None)
    assert edits.same({"raised": ["ValueError"]}, {"raised": ["ValueError"]}, None)
    assert not edits.same(["a", "b"], ["b", "a"], ["a", "c"])


def test_the_first_difference_is_where_the_learner_leaves_the_reference():
    seen = lambda *values: [wire.Observation(f"v{i}", "close", v) for i, v in enumerate(values)]  # noqa: E731
    reference = seen(np.ones(2), np.zeros(2))
    assert edits.first_difference(seen(np.ones(2), np.ones(2)), None, reference) == 1
    assert edits.first_difference(seen(np.ones(2)), {"kind": "ValueError"}, reference) == 1


def test_the_sentence_names_one_edit_lists_a_few_and_says_nothing_when_many_fit():
    one, two = edits.Edit("f", "`+` in place of `-`"), edits.Edit("f", "the term `x` left out")
    assert "one change, in f: `+` in place of `-`" in edits.sentence([one, one])
    assert "cannot tell them apart" in edits.sentence([one, two])
    many = [edits.Edit("f", f"edit {i}") for i in range(edits.SHOWN + 1)]
    assert edits.sentence(many) is None and edits.sentence([]) is None


@pytest.mark.slow
def test_a_failing_test_names_the_one_edit_that_reproduces_the_learners_numbers():
    """End to end, as `make check` judges: Linear.forward subtracting its bias."""
    mutant = Mutant("forward_subtracts_the_bias", "y = x W - b", "return x @ self.W.data + self.b.data",
                    "return x @ self.W.data - self.b.data", diagnosis="")
    with tempfile.TemporaryDirectory() as scratch:
        folder = build(mutant, "layers", Path(scratch))
        runs = run_exercise(manifest.load().exercise("layers"), [folder], child_seconds=900, mode="split",
                            extra_env={edits.SEARCH_VAR: "1"})  # the maintainer's suite turns the search off elsewhere
    run = runs[str(folder)]
    messages = [t.message for t in run.tests if not t.passed]
    named = "in Linear.forward (its return value): `-` in place of `+`"
    assert messages and any(named in m for m in messages), messages
