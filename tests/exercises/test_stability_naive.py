"""Stretch exercise (stability), continued: the naive versions, right for moderate inputs and broken exactly where
the textbook formula breaks (what the stability milestone measures). See test_stability.py for the tolerances."""

import numpy as np
import pytest

from grader.feedback.checks import check_that
from helpers import once
from grader.milestones.stability import exact_bce_with_logits, exact_cross_entropy, exact_log_softmax, exact_sigmoid, \
    exact_softmax
from test_stability import DTYPES, IDS, bce_slips, call, check_accurate, check_dtype, entry_scale, row_scale


def moderate(rng, dtype, shape):
    return (3.0 * rng.standard_normal(shape)).astype(dtype)


def check_moderate(ex, name, args, exact, dtype, kind, scale, inputs="logits", **check):
    """A naive_ function is right where its formula is safe: within tolerance of `exact()` on the moderate
    `inputs` `args` (`check`: further check_accurate arguments), in the input's dtype."""
    __tracebackhide__ = True
    got, _ = call(getattr(ex, name), *args)
    check_accurate(f"{name} of moderate {inputs} ({np.dtype(dtype).name})", got, exact, dtype, kind, scale, **check)
    check_dtype(name, got, dtype)


# --- naive versions: right for moderate inputs, broken where the textbook formula must break ----------

NOT_NAIVE = ("The naive version must be the textbook formula written literally (no max shift, no "
             "branches, no log1p), so that you can see, and the stability milestone can measure, where it "
             "breaks; the rearranged formula belongs in the stable_ version.")


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_softmax_is_right_for_moderate_logits_and_breaks_at_large_ones(ex, rng, dtype):
    z = moderate(rng, dtype, (4, 6))
    check_moderate(ex, "naive_softmax", (z,), once(lambda: exact_softmax(z)), dtype, "probability", row_scale(z))
    big = 1000.0 if dtype == np.float64 else 100.0
    overflow, _ = call(ex.naive_softmax, np.array([[big, 0.0]], dtype=dtype))
    check_that(f"naive_softmax([[{big:g}, 0]]) in {np.dtype(dtype).name}", overflow,
               lambda value: np.isnan(value).any(), lambda value: (
                   f"naive_softmax([[{big:g}, 0]]) in {np.dtype(dtype).name} gave {value}, but exp({big:g}) "
                   f"overflows to inf and inf / inf is NaN. {NOT_NAIVE}"))
    tiny, _ = call(ex.naive_softmax, np.array([[-big * 1.1, -big * 1.2]], dtype=dtype))
    check_that(f"naive_softmax([[{-big * 1.1:g}, {-big * 1.2:g}]]) in {np.dtype(dtype).name}", tiny,
               lambda value: np.isnan(value).all(), lambda value: (
                   f"naive_softmax of logits [{-big * 1.1:g}, {-big * 1.2:g}] in {np.dtype(dtype).name} gave "
                   f"{value}, but both exponentials underflow to 0 and 0 / 0 is NaN. {NOT_NAIVE}"))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_log_softmax_is_right_for_moderate_logits_and_gives_minus_inf_for_tiny_probabilities(ex, rng,
                                                                                                   dtype):
    z = moderate(rng, dtype, (4, 6))
    check_moderate(ex, "naive_log_softmax", (z,), once(lambda: exact_log_softmax(z)), dtype, "log", row_scale(z))
    gap = 1000.0 if dtype == np.float64 else 120.0
    under, _ = call(ex.naive_log_softmax, np.array([[0.0, -gap]], dtype=dtype))
    check_that(f"naive_log_softmax([[0, {-gap:g}]]) in {np.dtype(dtype).name}", under,
               lambda value: np.isneginf(np.asarray(value)[0, 1]), lambda value: (
                   f"naive_log_softmax([[0, {-gap:g}]]) in {np.dtype(dtype).name} gave {value}: the probability "
                   f"exp({-gap:g}) underflows to 0, and log(0) = -inf (the exact value is {-gap:g}). {NOT_NAIVE}"))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_cross_entropy_is_right_for_moderate_logits_and_infinite_when_a_probability_underflows(ex, rng,
                                                                                                    dtype):
    logits = moderate(rng, dtype, (5, 4))
    labels = np.array([0, 3, 1, 2, 1])
    check_moderate(ex, "naive_cross_entropy", (logits, labels), once(lambda: exact_cross_entropy(logits, labels)),
                   dtype, "log", np.mean(row_scale(logits)[:, 0]), batch_size=5)
    gap = 1000.0 if dtype == np.float64 else 120.0
    broken, _ = call(ex.naive_cross_entropy, np.array([[0.0, -gap]], dtype=dtype), np.array([1]))
    check_that(f"naive_cross_entropy(logits [[0, {-gap:g}]], label 1) in {np.dtype(dtype).name}", broken,
               lambda value: np.isposinf(value), lambda value: (
                   f"naive_cross_entropy(logits [[0, {-gap:g}]], label 1) in {np.dtype(dtype).name} gave {value}: "
                   f"the true class's probability exp({-gap:g}) underflows to 0 and -log(0) = inf (the exact loss "
                   f"is {gap:g}). " + "A finite value here means the log was kept from 0: an epsilon or a clip "
                   "(log(p + 1e-12)) added inside it. " * bool(np.isfinite(value)) + NOT_NAIVE))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_sigmoid_is_right_for_moderate_inputs_and_overflows_for_large_negative_ones(ex, rng, dtype):
    x = moderate(rng, dtype, 12)
    check_moderate(ex, "naive_sigmoid", (x,), once(lambda: exact_sigmoid(x)), dtype, "probability", entry_scale(x),
                   inputs="inputs")
    big = 1000.0 if dtype == np.float64 else 100.0
    _, caught = call(ex.naive_sigmoid, np.array([-big], dtype=dtype))
    check_that(f"NumPy's warnings during naive_sigmoid({-big:g}) in {np.dtype(dtype).name}", list(caught),
               lambda caught: any("overflow" in message for message in caught),
               f"naive_sigmoid({-big:g}) in {np.dtype(dtype).name} did not overflow, but 1 / (1 + exp(-x)) computes "
               f"exp({big:g}) = inf (NumPy warns 'overflow encountered in exp'). {NOT_NAIVE}")


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_bce_is_right_for_moderate_logits_and_breaks_once_sigmoid_rounds_to_one(ex, rng, dtype):
    z = moderate(rng, dtype, 10)
    t = rng.choice([0.0, 1.0], size=10).astype(dtype)
    check_moderate(ex, "naive_bce_with_logits", (z, t), once(lambda: exact_bce_with_logits(z, t)), dtype, "log",
                   np.mean(entry_scale(z)), batch_size=10, alternatives=lambda: bce_slips(z, t))
    big = 50.0 if dtype == np.float64 else 20.0
    wrong, _ = call(ex.naive_bce_with_logits, np.array([big], dtype=dtype), np.array([0.0], dtype=dtype))
    right, _ = call(ex.naive_bce_with_logits, np.array([big], dtype=dtype), np.array([1.0], dtype=dtype))
    check_that(f"naive_bce_with_logits at logit {big:g} for targets 0 and 1 in {np.dtype(dtype).name}",
               [wrong, right], lambda pair: np.isposinf(pair[0]) and np.isnan(pair[1]), lambda pair: (
                   f"naive_bce_with_logits at logit {big:g} in {np.dtype(dtype).name} gave {pair[0]} for target 0 "
                   f"and {pair[1]} for target 1; the textbook formula gives inf and NaN: sigmoid({big:g}) rounds to "
                   "exactly 1, log(1 - p) = -inf, and for target 1 the term (1 - t) log(1 - p) is 0 * (-inf) = NaN. "
                   f"{NOT_NAIVE}"))
