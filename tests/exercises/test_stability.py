"""Stretch exercise (stability): naive textbook formulas next to stable ones, float32 and float64.

Expected values come from the exact reference of grader/milestones/stability.py (Python's decimal module
at 50 digits: no overflow, no underflow, independent of NumPy) and from PyTorch in float64. The stable
versions must match the exact values over the whole range (|logits| up to 1e4) without NaN, inf or NumPy
warnings (underflow to 0 excepted: where the exact value is below the smallest float, 0 is the right
answer). The naive versions are the learner's too: they must match for moderate inputs and break exactly
where the textbook formula breaks, which the stability milestone then measures.
"""

import numpy as np
import pytest
import torch

from grader.feedback.diagnose import check_close
from grader.milestones.stability import (call_recording_warnings, exact_bce_with_logits,
                                         exact_cross_entropy, exact_log_softmax, exact_sigmoid,
                                         exact_softmax)
from helpers import assert_unchanged

DTYPES = [np.float32, np.float64]
IDS = ["float32", "float64"]
MAGNITUDES = [1.0, 10.0, 100.0, 1e3, 1e4]


def tolerances(dtype, kind):
    """rtol and atol for comparing a result in dtype with the exact value.

    rtol: a few hundred units of the last place (exp(z - m) turns the rounding of z - m into a relative
    error up to |z - m| eps). atol: probabilities below the smallest normal number have few significant
    bits; log-probabilities and losses near 0 have an absolute accuracy of a few eps.
    """
    finfo = np.finfo(dtype)
    rtol = 3e-5 if dtype == np.float32 else 1e-12
    atol = float(finfo.tiny) if kind == "probability" else 4 * float(finfo.eps)
    return dict(rtol=rtol, atol=atol)


def call(what, f, *args):
    """(result of f(*args), [NumPy warnings]): warnings are recorded, never raised, so that a naive
    function can be measured; the stable tests then fail on them with `assert_quiet(what, caught)`."""
    return call_recording_warnings(f, *args)


def assert_quiet(what, caught):
    __tracebackhide__ = True
    if caught:
        raise AssertionError(
            f"{what} made NumPy warn: {caught[0]}. A stable formula never overflows, divides by zero or "
            "forms inf / inf for finite inputs. Note that np.where(c, a, b) computes a and b everywhere: "
            "both branches must be safe for every input, not just where they are chosen."
        )


def assert_finite_where_exact_is(what, got, exact, advice):
    __tracebackhide__ = True
    got = np.asarray(got, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    if got.shape == exact.shape and not np.all(np.isfinite(got)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        raise AssertionError(f"{what} gave {got[bad]} at index {bad} where the exact value is "
                             f"{exact[bad]:.6g}: {advice}")


def assert_dtype(what, got, dtype):
    __tracebackhide__ = True
    actual = np.asarray(got).dtype
    assert actual == dtype, (
        f"{what} returned {actual} for {np.dtype(dtype).name} input: keep the input's dtype (no astype, no "
        "float64 constants arrays) so float32's limits are the ones measured."
    )


def check_stable(ex, name, args, exact, dtype, kind, advice, **check):
    """What every stable_ function promises on `args`: a finite result wherever the exact value is finite
    (else `advice`), within tolerances(dtype, kind) of `exact` (`check`: further check_close arguments),
    no NumPy warning, and the input's dtype kept."""
    __tracebackhide__ = True
    got, caught = call(name, getattr(ex, name), *args)
    assert_finite_where_exact_is(name, got, exact, advice)
    check_close(f"{name} ({np.dtype(dtype).name})", got, exact, **tolerances(dtype, kind), **check)
    assert_quiet(name, caught)
    assert_dtype(name, got, dtype)


def check_moderate(ex, name, args, exact, dtype, kind, inputs="logits", **check):
    """A naive_ function is right where its formula is safe: within tolerances(dtype, kind) of `exact` on
    the moderate `inputs` `args` (`check`: further check_close arguments), in the input's dtype."""
    __tracebackhide__ = True
    got, _ = call(name, getattr(ex, name), *args)
    check_close(f"{name} of moderate {inputs} ({np.dtype(dtype).name})", got, exact, **tolerances(dtype, kind),
                **check)
    assert_dtype(name, got, dtype)


def softmax_logits(dtype):
    """Rows spread over +-M and rows of large negative logits only, for every magnitude M."""
    rows = [m * np.array([1.0, 0.5, 0.0, -0.5, -1.0]) for m in MAGNITUDES]
    rows += [-m * np.array([1.0, 1.25, 1.5, 1.75, 2.0]) for m in MAGNITUDES]
    rows.append(np.array([0.3, -1.2, 2.2, 0.0, 0.7]))
    return np.array(rows).astype(dtype)


def sigmoid_inputs(dtype):
    magnitudes = [0.0, 0.5, 1.0, 10.0, 20.0, 40.0, 80.0, 100.0, 500.0, 700.0, 720.0, 1e3, 1e4]
    return np.array(sorted({s * m for m in magnitudes for s in (-1.0, 1.0)})).astype(dtype)


def moderate(rng, dtype, shape):
    return (3.0 * rng.standard_normal(shape)).astype(dtype)


# --- stable versions -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_softmax_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    z = softmax_logits(dtype)
    check_stable(ex, "stable_softmax", (z,), exact_softmax(z), dtype, "probability",
                 "subtract each row's max before exp, so no exponent is positive and the largest term is "
                 "exactly 1 (never inf / inf or 0 / 0).")


def test_stable_softmax_normalises_each_row_with_its_own_max(ex):
    z = np.array([[700.0, 699.0, 698.0], [0.0, -60.0, -1.0]])
    exact = exact_softmax(z)
    got, _ = call("stable_softmax", ex.stable_softmax, z)
    check_close("stable_softmax of a batch whose rows have very different scales", got, exact,
                rtol=1e-12, atol=float(np.finfo(np.float64).tiny),
                regions=[(np.array([[False] * 3, [True] * 3]), "the row whose max (0) is far below the batch's "
                          "max (700)", "subtract each row's own max (np.max(z, axis=-1, keepdims=True)), not "
                          "the max of the whole batch, which underflows the other rows.")])


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_log_softmax_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    z = softmax_logits(dtype)
    check_stable(ex, "stable_log_softmax", (z,), exact_log_softmax(z), dtype, "log",
                 "a probability underflowed to 0 and its log is -inf (or exp overflowed). Do not take the log "
                 "of softmax: compute (z - m) - log(sum(exp(z - m))).")


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_cross_entropy_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    logits = np.array([m * np.array([1.0, 0.0, -1.0, 0.5]) for m in MAGNITUDES]
                      + [[0.2, -0.3, 1.1, 0.4]]).astype(dtype)
    labels = np.array([2, 2, 1, 3, 2, 0])
    check_stable(ex, "stable_cross_entropy", (logits, labels), exact_cross_entropy(logits, labels), dtype, "log",
                 "the probability of a true class underflowed to 0 (log 0 = -inf): take the entries of "
                 "stable_log_softmax, never the log of softmax.", batch_size=len(labels))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_sigmoid_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    x = sigmoid_inputs(dtype)
    check_stable(ex, "stable_sigmoid", (x,), exact_sigmoid(x), dtype, "probability",
                 "exp of a large number overflowed: only ever compute exp(-|x|).",
                 alternatives=[(exact_sigmoid(-np.asarray(x, dtype=np.float64)),
                                "sigmoid(-x): the two branches are swapped (1 / (1 + e) is for x >= 0).")])


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_bce_with_logits_is_exact_over_the_whole_range_without_warnings(ex, dtype):
    magnitudes = np.array([0.5, 1.0, 10.0, 40.0, 100.0, 1e3, 1e4])
    z = np.concatenate([magnitudes, -magnitudes, magnitudes, -magnitudes, [0.0, 2.0, -3.0]]).astype(dtype)
    k = len(magnitudes)
    t = np.concatenate([np.zeros(2 * k), np.ones(2 * k), [0.25, 0.5, 0.9]]).astype(dtype)
    check_stable(ex, "stable_bce_with_logits", (z, t), exact_bce_with_logits(z, t), dtype, "log",
                 "sigmoid(z) rounded to 0 or 1 and its log is -inf (or 0 * inf = NaN). Work with the logits: "
                 "max(z, 0) - z t + log1p(exp(-|z|)).", batch_size=len(z),
                 alternatives=[(exact_bce_with_logits(z, 1.0 - t.astype(np.float64)),
                                "the loss for targets 1 - t: the linear term is - z * t.")])


def test_stable_bce_with_logits_keeps_the_tiny_loss_of_confident_right_answers(ex):
    z = np.array([20.0, 30.0, 40.0, 60.0])
    t = np.ones(4)
    got = np.array([ex.stable_bce_with_logits(z[i:i + 1], t[i:i + 1]) for i in range(4)])
    exact = np.array([exact_bce_with_logits(z[i:i + 1], t[i:i + 1]) for i in range(4)])
    with np.errstate(all="ignore"):
        rounded = np.log(1.0 + np.exp(-z))
    check_close("stable_bce_with_logits for z = 20, 30, 40, 60 with target 1 (exact: about exp(-z))", got,
                exact, rtol=1e-10, atol=0.0, alternatives=[
                    (rounded, "log(1 + exp(-|z|)) computed as written: 1 + exp(-40) rounds to 1 and the loss "
                              "to 0. np.log1p(u) computes log(1 + u) without forming 1 + u.")])


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_stable_functions_do_not_modify_their_inputs(ex, rng, dtype):
    z = (100.0 * rng.standard_normal((3, 4))).astype(dtype)
    labels = np.array([0, 3, 1])
    x = (100.0 * rng.standard_normal(5)).astype(dtype)
    t = np.array([0, 1, 1, 0, 1], dtype=dtype)
    for name, args in [("stable_softmax", (z,)), ("stable_log_softmax", (z,)),
                       ("stable_cross_entropy", (z, labels)), ("stable_sigmoid", (x,)),
                       ("stable_bce_with_logits", (x, t))]:
        before = [np.array(a, copy=True) for a in args]
        call(name, getattr(ex, name), *args)
        for old, new in zip(before, args):
            assert_unchanged(name, old, new)


def test_stable_functions_agree_with_pytorch_in_float64(ex, rng):
    z = 40.0 * rng.standard_normal((6, 5))
    labels = rng.integers(0, 5, size=6)
    x = 40.0 * rng.standard_normal(9)
    t = rng.uniform(0, 1, size=9)
    tz, tx, tt = torch.tensor(z), torch.tensor(x), torch.tensor(t)
    check_close("stable_softmax vs torch.softmax", ex.stable_softmax(z), torch.softmax(tz, -1).numpy(),
                rtol=1e-10, atol=1e-300)
    check_close("stable_log_softmax vs torch.log_softmax", ex.stable_log_softmax(z),
                torch.log_softmax(tz, -1).numpy(), rtol=1e-10, atol=1e-14)
    check_close("stable_cross_entropy vs torch.nn.functional.cross_entropy",
                ex.stable_cross_entropy(z, labels),
                torch.nn.functional.cross_entropy(tz, torch.tensor(labels)).item(), rtol=1e-10, batch_size=6)
    check_close("stable_sigmoid vs torch.sigmoid", ex.stable_sigmoid(x), torch.sigmoid(tx).numpy(),
                rtol=1e-10, atol=1e-300)
    check_close("stable_bce_with_logits vs torch.nn.functional.binary_cross_entropy_with_logits",
                ex.stable_bce_with_logits(x, t),
                torch.nn.functional.binary_cross_entropy_with_logits(tx, tt).item(), rtol=1e-10, batch_size=9)


# --- naive versions: right for moderate inputs, broken where the textbook formula must break ----------

NOT_NAIVE = ("The naive version must be the textbook formula written literally (no max shift, no "
             "branches, no log1p), so that you can see, and the stability milestone can measure, where it "
             "breaks; the rearranged formula belongs in the stable_ version.")


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_softmax_is_right_for_moderate_logits_and_breaks_at_large_ones(ex, rng, dtype):
    z = moderate(rng, dtype, (4, 6))
    check_moderate(ex, "naive_softmax", (z,), exact_softmax(z), dtype, "probability")
    big = 1000.0 if dtype == np.float64 else 100.0
    overflow, caught = call("naive_softmax", ex.naive_softmax, np.array([[big, 0.0]], dtype=dtype))
    assert np.isnan(overflow).any(), (
        f"naive_softmax([[{big:g}, 0]]) in {np.dtype(dtype).name} gave {overflow}, but exp({big:g}) overflows "
        f"to inf and inf / inf is NaN. {NOT_NAIVE}"
    )
    tiny, _ = call("naive_softmax", ex.naive_softmax, np.array([[-big * 1.1, -big * 1.2]], dtype=dtype))
    assert np.isnan(tiny).all(), (
        f"naive_softmax of logits [{-big * 1.1:g}, {-big * 1.2:g}] in {np.dtype(dtype).name} gave {tiny}, but "
        f"both exponentials underflow to 0 and 0 / 0 is NaN. {NOT_NAIVE}"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_log_softmax_is_right_for_moderate_logits_and_gives_minus_inf_for_tiny_probabilities(ex, rng,
                                                                                                   dtype):
    z = moderate(rng, dtype, (4, 6))
    check_moderate(ex, "naive_log_softmax", (z,), exact_log_softmax(z), dtype, "log")
    gap = 1000.0 if dtype == np.float64 else 120.0
    under, _ = call("naive_log_softmax", ex.naive_log_softmax, np.array([[0.0, -gap]], dtype=dtype))
    assert np.isneginf(np.asarray(under)[0, 1]), (
        f"naive_log_softmax([[0, {-gap:g}]]) in {np.dtype(dtype).name} gave {under}: the probability "
        f"exp({-gap:g}) underflows to 0, and log(0) = -inf (the exact value is {-gap:g}). {NOT_NAIVE}"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_cross_entropy_is_right_for_moderate_logits_and_infinite_when_a_probability_underflows(ex, rng,
                                                                                                    dtype):
    logits = moderate(rng, dtype, (5, 4))
    labels = np.array([0, 3, 1, 2, 1])
    check_moderate(ex, "naive_cross_entropy", (logits, labels), exact_cross_entropy(logits, labels), dtype, "log",
                   batch_size=5)
    gap = 1000.0 if dtype == np.float64 else 120.0
    broken, _ = call("naive_cross_entropy", ex.naive_cross_entropy, np.array([[0.0, -gap]], dtype=dtype),
                     np.array([1]))
    assert np.isposinf(broken), (
        f"naive_cross_entropy(logits [[0, {-gap:g}]], label 1) in {np.dtype(dtype).name} gave {broken}: the "
        f"true class's probability exp({-gap:g}) underflows to 0 and -log(0) = inf (the exact loss is "
        f"{gap:g}). {NOT_NAIVE}"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_sigmoid_is_right_for_moderate_inputs_and_overflows_for_large_negative_ones(ex, rng, dtype):
    x = moderate(rng, dtype, 12)
    check_moderate(ex, "naive_sigmoid", (x,), exact_sigmoid(x), dtype, "probability", inputs="inputs")
    big = 1000.0 if dtype == np.float64 else 100.0
    value, caught = call("naive_sigmoid", ex.naive_sigmoid, np.array([-big], dtype=dtype))
    assert any("overflow" in message for message in caught), (
        f"naive_sigmoid({-big:g}) in {np.dtype(dtype).name} did not overflow, but 1 / (1 + exp(-x)) computes "
        f"exp({big:g}) = inf (NumPy warns 'overflow encountered in exp'). {NOT_NAIVE}"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_naive_bce_is_right_for_moderate_logits_and_breaks_once_sigmoid_rounds_to_one(ex, rng, dtype):
    z = moderate(rng, dtype, 10)
    t = rng.choice([0.0, 1.0], size=10).astype(dtype)
    check_moderate(ex, "naive_bce_with_logits", (z, t), exact_bce_with_logits(z, t), dtype, "log", batch_size=10)
    big = 50.0 if dtype == np.float64 else 20.0
    wrong, _ = call("naive_bce_with_logits", ex.naive_bce_with_logits, np.array([big], dtype=dtype),
                    np.array([0.0], dtype=dtype))
    right, _ = call("naive_bce_with_logits", ex.naive_bce_with_logits, np.array([big], dtype=dtype),
                    np.array([1.0], dtype=dtype))
    assert np.isposinf(wrong) and np.isnan(right), (
        f"naive_bce_with_logits at logit {big:g} in {np.dtype(dtype).name} gave {wrong} for target 0 and "
        f"{right} for target 1; the textbook formula gives inf and NaN: sigmoid({big:g}) rounds to exactly 1, "
        "log(1 - p) = -inf, and for target 1 the term (1 - t) log(1 - p) is 0 * (-inf) = NaN. "
        f"{NOT_NAIVE}"
    )
