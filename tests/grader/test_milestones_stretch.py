"""The stretch milestones in quick mode: autograd_mnist, stability and cnn pass with the reference and are
locked on the stubs; a textbook sigmoid posing as the stable one fails the stability table.

Each run is a child process started by milestone_support.run_milestone, as the grader starts it.
"""

from __future__ import annotations

import pytest

from milestone_support import assert_pngs, defective_copy, run_milestone

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


# ---------------------------------------------------------------------------------------------------
# stretch milestones: autograd_mnist and stability

@pytest.mark.nightly
def test_autograd_mnist_quick_run_passes_with_the_reference_engine(tmp_path):
    result, output = run_milestone("autograd_mnist", "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-2000:]}"


@pytest.mark.nightly
def test_autograd_mnist_is_locked_on_the_stubs(tmp_path):
    result, output = run_milestone("autograd_mnist", "exercises", tmp_path)
    assert result["status"] == "locked", f"{result}\n{output[-1500:]}"


def test_the_stability_table_passes_with_the_reference_and_shows_where_naive_formulas_break(tmp_path):
    result, output = run_milestone("stability", "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-2000:]}"
    assert "float32" in output and "float64" in output, output[-2000:]


def test_a_textbook_sigmoid_posing_as_the_stable_one_fails_the_stability_milestone(tmp_path):
    target = defective_copy(tmp_path, "stability",
                            "def stable_sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n")
    result, output = run_milestone("stability", target, tmp_path)
    assert result["status"] == "failed", f"{result}\n{output[-1500:]}"
    assert "stable_sigmoid" in result["reason"], result["reason"]


# ---------------------------------------------------------------------------------------------------
# stretch milestone: cnn

@pytest.mark.nightly
def test_cnn_is_locked_on_the_stubs(tmp_path):
    result, output = run_milestone("cnn", "exercises", tmp_path)
    assert result["status"] == "locked", f"{result}\n{output[-1500:]}"


@pytest.mark.nightly
def test_cnn_quick_run_draws_the_curve_the_gradient_flow_and_the_first_layer_filters(tmp_path):
    result, output = run_milestone("cnn", "solutions", tmp_path)
    assert result["status"] == "passed", f"{result.get('reason')}\n{output[-2000:]}"
    assert_pngs(result, "curve", "gradient_flow", "filters")
    assert result["multiple"] == pytest.approx(30.0) and 0 < result["ratio"] < result["multiple"], result
