"""Stretch exercise (regularization): inverted dropout and the L2 weight penalty.

Dropout is random, so its tests check statistics with tolerances derived from the sample size (five
standard errors: a correct layer fails about once in a million runs), plus the exact facts that hold for
every draw (survivors are x / (1 - p), backward reuses the forward mask). PyTorch's dropout draws other
random numbers, so it is compared by statistics, not values. The L2 penalty is checked against its closed
form and finite differences.
"""

import numpy as np
import pytest
import torch

from grader.feedback.diagnose import check_close
from helpers import assert_unchanged, numerical_gradient, random_upstream

P = 0.3  # not 0.5, so "keeps with probability p" and "keeps with probability 1 - p" differ


def five_standard_errors(p, n):
    """Tolerance for a fraction estimated from n Bernoulli(p) draws."""
    return 5.0 * np.sqrt(p * (1.0 - p) / n)


def test_dropout_rejects_drop_probabilities_outside_zero_to_one(ex):
    for bad in (1.0, 1.5, -0.1):
        try:
            ex.Dropout(bad)
        except ValueError:
            continue
        extra = (" With p = 1 every entry is dropped and the survivors would be divided by 1 - p = 0."
                 if bad == 1.0 else "")
        raise AssertionError(f"Dropout({bad}) did not raise ValueError: p must satisfy 0 <= p < 1.{extra}")
    ex.Dropout(0.0)  # p = 0 is allowed: the identity


def test_dropout_keeps_each_entry_with_probability_one_minus_p(ex):
    layer = ex.Dropout(P, rng=np.random.default_rng(1))
    x = np.ones((200, 500))
    y = layer.forward(x)
    kept = float(np.mean(y != 0))
    tolerance = five_standard_errors(P, x.size)
    if abs(kept - P) <= tolerance:
        raise AssertionError(f"Dropout(p={P}) kept {kept:.3f} of the entries, which is p: it keeps each entry "
                             "with probability p. p is the probability of DROPPING an entry; keep where "
                             "rng.random(shape) >= p.")
    assert abs(kept - (1 - P)) <= tolerance, (
        f"Dropout(p={P}) kept a fraction {kept:.4f} of {x.size} entries; expected 1 - p = {1 - P} "
        f"(+- {tolerance:.4f}, five standard errors). Draw one uniform number per entry and keep it when "
        "the number is >= p."
    )


def test_dropout_scales_the_survivors_by_one_over_one_minus_p(ex, rng):
    layer = ex.Dropout(P, rng=np.random.default_rng(2))
    x = rng.standard_normal((50, 40)) + 3.0  # no zeros, so a zero in y means "dropped"
    y = layer.forward(x)
    kept = y != 0
    assert kept.any(), "Dropout(p=0.3) dropped every entry of a 50 x 40 input."
    check_close("Dropout.forward on the kept entries", y[kept], x[kept] / (1 - P), alternatives=[
        (x[kept], "x itself: the survivors are not scaled. Inverted dropout divides them by 1 - p so "
                  "that E[y] = x and eval mode needs no rescaling."),
        (x[kept] / P, "x / p: divide the survivors by the keep probability 1 - p, not by p."),
        (x[kept] * (1 - P), "x * (1 - p): that is the eval-time scaling of non-inverted dropout; inverted "
                            "dropout divides the survivors by 1 - p in training mode."),
    ])


def test_dropout_preserves_the_expected_value(ex, rng):
    rows = 4000
    x0 = rng.uniform(0.5, 2.0, size=30) * rng.choice([-1.0, 1.0], size=30)
    layer = ex.Dropout(P, rng=np.random.default_rng(3))
    y = layer.forward(np.tile(x0, (rows, 1)))
    mean = y.mean(axis=0)
    # y_i is x_i / (1 - p) with probability 1 - p, else 0: its standard deviation is |x_i| sqrt(p / (1 - p)).
    standard_error = np.abs(x0) * np.sqrt(P / (1 - P)) / np.sqrt(rows)
    z = np.abs(mean - x0) / standard_error
    if z.max() > 5.0:
        k = float(np.sum(mean * x0) / np.sum(x0 * x0))
        raise AssertionError(
            f"Dropout(p={P}): the average of y over {rows} draws is about {k:.3f} * x, expected x "
            f"(E[y] = x is what inverted dropout guarantees; largest deviation {z.max():.1f} standard errors). "
            f"{k:.2f} ~ 1 - p means the survivors are not divided by 1 - p; ~ p means the keep probability "
            "is p instead of 1 - p."
        )


def test_dropout_in_eval_mode_is_the_identity(ex, rng):
    layer = ex.Dropout(P, rng=np.random.default_rng(4))
    layer.eval()
    x = rng.standard_normal((20, 30))
    grad_out = random_upstream(rng, x.shape)
    y = layer.forward(x)
    assert not np.any(np.asarray(y) == 0), (
        "Dropout.forward dropped entries after eval(): in eval mode (self.training is False) it must "
        "return x unchanged; dropping is for training only."
    )
    check_close("Dropout.forward in eval mode", y, x, alternatives=[
        (x * (1 - P), "x * (1 - p): with inverted dropout eval mode returns x unchanged.")])
    check_close("Dropout.backward in eval mode", layer.backward(grad_out), grad_out)
    layer.train()
    assert np.any(layer.forward(x) == 0), (
        "after train(), Dropout.forward dropped nothing: check self.training in forward."
    )


def test_dropout_with_p_zero_is_the_identity_in_training_mode(ex, rng):
    layer = ex.Dropout(0.0, rng=np.random.default_rng(5))
    x = rng.standard_normal((10, 10))
    grad_out = random_upstream(rng, x.shape)
    check_close("Dropout(p=0).forward", layer.forward(x), x)
    check_close("Dropout(p=0).backward", layer.backward(grad_out), grad_out)


def test_dropout_backward_uses_the_mask_of_the_forward_pass(ex, rng):
    layer = ex.Dropout(P, rng=np.random.default_rng(6))
    x = rng.standard_normal((40, 25)) + 4.0  # no zeros: y / x recovers the scaled mask
    y = layer.forward(x)
    mask = y / x
    grad_out = random_upstream(rng, x.shape)
    grad_x = layer.backward(grad_out)
    if grad_x is None:
        raise AssertionError("Dropout.backward returned None: return dL/dx = grad_out * mask.")
    grad_x = np.asarray(grad_x)
    if grad_x.shape == x.shape:
        dropped_here = grad_x == 0
        dropped_there = y == 0
        if np.mean(dropped_here != dropped_there) > 0.05:
            raise AssertionError(
                "Dropout.backward zeroes other entries than forward dropped: backward must use the same "
                "mask as the last forward (store it in forward), not draw a new one. A different mask "
                "differentiates a different function from the one that produced the loss."
            )
    check_close("Dropout.backward", grad_x, grad_out * mask, alternatives=[
        (grad_out * (y != 0), "grad_out times the 0/1 mask: the gradient needs the same 1 / (1 - p) "
                              "scale as the forward pass (dy/dx = m / (1 - p))."),
        (grad_out * y, "grad_out * y: multiply by the (scaled) mask, not by the output."),
    ])


def test_dropout_is_reproducible_from_its_rng(ex, rng):
    x = rng.standard_normal((30, 30))
    first = ex.Dropout(P, rng=np.random.default_rng(7)).forward(x)
    second = ex.Dropout(P, rng=np.random.default_rng(7)).forward(x)
    other = ex.Dropout(P, rng=np.random.default_rng(8)).forward(x)
    assert np.array_equal(first, second) and not np.array_equal(first, other), (
        "Two Dropout layers built with rng=np.random.default_rng(7) gave different masks (or seeds 7 and 8 "
        "gave the same): draw the mask from the rng the layer was given (self.rng.random(x.shape)), not "
        "from np.random or a new Generator."
    )
    layer = ex.Dropout(P, rng=np.random.default_rng(9))
    assert not np.array_equal(layer.forward(x), layer.forward(x)), (
        "Two forward calls of one Dropout layer dropped the same entries: draw a new mask on every call."
    )


def test_dropout_keeps_the_dtype_and_does_not_modify_its_arguments(ex, rng):
    layer = ex.Dropout(P, rng=np.random.default_rng(10))
    x = rng.standard_normal((16, 12)).astype(np.float32)
    grad_out = random_upstream(rng, x.shape).astype(np.float32)
    x_before, grad_before = x.copy(), grad_out.copy()
    y = layer.forward(x)
    grad_x = layer.backward(grad_out)
    assert_unchanged("Dropout.forward", x_before, x)
    assert_unchanged("Dropout.backward", grad_before, grad_out)
    assert y.dtype == np.float32 and np.asarray(grad_x).dtype == np.float32, (
        f"Dropout turned float32 into {y.dtype} (forward) / {np.asarray(grad_x).dtype} (backward): build the "
        "mask in x's dtype (mask.astype(x.dtype)), or float32 training silently becomes float64."
    )


def test_dropout_statistics_match_pytorch(ex):
    n = 200_000
    x = np.full(n, 2.0)
    ours = ex.Dropout(P, rng=np.random.default_rng(11)).forward(x)
    torch.manual_seed(11)
    theirs = torch.nn.functional.dropout(torch.tensor(x), p=P, training=True).numpy()
    ours_kept, theirs_kept = float(np.mean(ours != 0)), float(np.mean(theirs != 0))
    tolerance = 5.0 * np.sqrt(2.0 * P * (1.0 - P) / n)
    assert abs(ours_kept - theirs_kept) <= tolerance, (
        f"Dropout(p={P}) kept {ours_kept:.4f} of the entries, torch.nn.functional.dropout {theirs_kept:.4f} "
        f"(difference allowed {tolerance:.4f}): p is the probability of dropping an entry."
    )
    check_close("the values Dropout gives the survivors of x = 2", np.unique(ours[ours != 0]),
                np.unique(theirs[theirs != 0]))


def make_params(pkg, rng):
    """Two Parameters of different shapes, so a penalty that forgets one of them shows."""
    return [pkg.layers.Parameter(rng.standard_normal((4, 3))), pkg.layers.Parameter(rng.standard_normal(5))]


def test_l2_penalty_is_half_lambda_times_the_sum_of_squared_weights(ex, pkg, rng):
    params = make_params(pkg, rng)
    lam = 0.37
    squares = [float(np.sum(p.data ** 2)) for p in params]
    value = ex.l2_penalty(params, lam)
    assert isinstance(value, (float, np.floating)) and np.ndim(value) == 0, (
        f"l2_penalty returned {type(value).__name__}; return one number (a float) to add to the loss."
    )
    check_close("l2_penalty", value, 0.5 * lam * sum(squares), alternatives=[
        (lam * sum(squares), "lam * sum ||W||^2 without the 1/2: the penalty is (lam / 2) ||W||^2, so that "
                             "its gradient is lam * W."),
        (0.5 * lam * sum(np.sqrt(squares)), "(lam / 2) * sum ||W||: the norms must be squared."),
        (0.5 * lam * squares[0], "the penalty of the first parameter only: sum over every parameter."),
        (0.5 * lam * squares[-1], "the penalty of the last parameter only: add the parameters up (+=)."),
    ])
    check_close("l2_penalty with lam = 0", ex.l2_penalty(params, 0.0), 0.0)


def test_l2_penalty_backward_matches_finite_differences(ex, pkg, ref, rng):
    params = make_params(pkg, rng)
    lam = 0.37
    for p in params:
        p.grad[...] = 0.0
    ex.l2_penalty_backward(params, lam)
    for index, p in enumerate(params):
        expected = numerical_gradient(ref, lambda: ex.l2_penalty(params, lam), p.data)
        check_close(f"l2_penalty_backward: gradient of parameter {index} (in p.grad)", p.grad, expected,
                    alternatives=[(lam * np.sign(p.data), "lam * sign(W): that is the L1 penalty's gradient.")])


def test_l2_penalty_backward_adds_lambda_w_into_existing_gradients(ex, pkg, rng):
    params = make_params(pkg, rng)
    lam = 0.37
    before = [random_upstream(rng, p.shape) for p in params]
    data_before = [p.data.copy() for p in params]
    for p, g in zip(params, before):
        p.grad[...] = g
    ex.l2_penalty_backward(params, lam)
    for index, (p, g, w) in enumerate(zip(params, before, data_before)):
        assert_unchanged("l2_penalty_backward (on p.data)", w, p.data)
        check_close(f"p.grad of parameter {index} after l2_penalty_backward", p.grad, g + lam * w,
                    alternatives=[(lam * w, "lam * W alone: add the penalty's gradient into p.grad (+=); "
                                            "p.grad already holds the data loss's gradient.")])
    ex.l2_penalty(params, lam)
    for w, p in zip(data_before, params):
        assert_unchanged("l2_penalty (on p.data)", w, p.data)
