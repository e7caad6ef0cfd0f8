"""Stretch exercise (batchnorm), backward in training mode: dL/dx against finite differences and PyTorch, the
parameter gradients, and accumulation (the forward, running statistics and eval mode are in test_batchnorm.py).

The usual mistakes of the dL/dx formula are simulated below by the judge, term by term, so that a failure can say
which one it is.
"""

import numpy as np
import pytest

from grader.feedback.checks import check_that, check_unchanged
from grader.feedback.oracle import check_close_ref
from helpers import check_layer_backward, once, random_upstream
from test_batchnorm import (PER_CHANNEL, TIGHT, axes_of, batch, explain_axes, forward_mistakes, layer_name, make_layer,
                            per_channel, torch_layer, torch_train_step)


def gradient_mistakes(x, grad_out, gamma, beta, eps):
    """Training-mode dL/dx of the usual backward mistakes: each term of (s / m)(m g_hat - sum g_hat - x_hat
    sum(g_hat x_hat)) left out, its sign flipped or its factor slipped (gamma, s, m, x_hat)."""
    axes = axes_of(x)
    m = x.size // x.shape[1]
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    s = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * s

    def total(values):
        return values.sum(axis=axes, keepdims=True)

    def formula(g_hat=grad_out * per_channel(gamma, x), scale=s, count=m, normalised=x_hat, signs=(1, 1),
                g_sum=None, gx_sum=None):
        g_sum = total(g_hat) if g_sum is None else g_sum
        gx_sum = total(g_hat * normalised) if gx_sum is None else gx_sum
        return scale / count * (count * g_hat - signs[0] * g_sum - signs[1] * normalised * gx_sum)

    the_formula = "dL/dx = (s / m) (m g_hat - sum g_hat - x_hat sum(g_hat x_hat))"
    mistakes = [
        (formula(signs=(0, 1)), "the gradient without the mean's term (- sum g_hat): the batch mean depends on every "
                                f"x, so {the_formula}."),
        (formula(signs=(1, 0)), "the gradient without the variance's term (- x_hat sum(g_hat x_hat)): the batch "
                                f"variance depends on every x, so {the_formula}."),
        (formula(signs=(0, 0)), "s * g_hat, as if mean and variance were constants: that is the eval-mode gradient; in "
                                "training mode both depend on x."),
        (formula(signs=(-1, 1)), f"the gradient with + sum g_hat, the mean's term with the wrong sign: {the_formula}."),
        (formula(signs=(1, -1)), "the gradient with + x_hat sum(g_hat x_hat), the variance's term with the wrong sign "
                                 f"(a minus sign lost): {the_formula}."),
        (formula(g_hat=grad_out), "the gradient without the factor gamma: g_hat = dL/dy * gamma."),
        (formula(g_hat=grad_out * per_channel(beta, x)), "the gradient with g_hat = dL/dy * beta, beta instead of "
                                                         "gamma: y = gamma x_hat + beta, so dL/dx_hat = dL/dy * "
                                                         "gamma."),
        (formula(gx_sum=total(grad_out * x_hat)), "the gradient with sum(dL/dy * x_hat) in the variance term, "
                                                  "without gamma: the sums take g_hat = dL/dy * gamma. "
                                                  f"{the_formula}."),
        (formula(g_sum=total(grad_out)), "the gradient with sum(dL/dy) in the mean's term, without gamma: the sums "
                                         f"take g_hat = dL/dy * gamma. {the_formula}."),
        (formula(scale=1.0), "the gradient without the factor s = 1 / sqrt(var + eps) (the inverse standard "
                             f"deviation): x_hat = (x - mean) s, so {the_formula}."),
        (formula(scale=s * s), "the gradient with s^2 = 1 / (var + eps) where s = 1 / sqrt(var + eps) belongs (the "
                               f"standard deviation, not the variance): {the_formula}."),
        (formula(scale=1.0 / s), "the gradient multiplied by sqrt(var + eps) instead of by s = 1 / sqrt(var + eps): "
                                 f"{the_formula}."),
        (formula(normalised=x), "the gradient with the raw input x where x_hat belongs: keep the normalised x_hat = "
                                f"(x - mean) s from forward for backward. {the_formula}."),
        (formula(normalised=x - mean), "the gradient with x - mean where x_hat = (x - mean) s belongs (the factor s "
                                       f"missing in x_hat): {the_formula}."),
    ]
    for count in (m - 1, m + 1):
        mistakes.append((formula(count=count), f"the training-mode formula with m = {count} where m = {m}, the number "
                                               "of values of one channel, belongs (an off-by-one, or the unbiased "
                                               "count m - 1: the forward normalises with the biased variance)."))
    if x.size != m:
        mistakes.append((formula(count=x.size), f"the training-mode formula with m = {x.size}, every entry of x: m "
                                                "counts the values of ONE channel, x.size // C (here "
                                                f"{m})." + (" " + PER_CHANNEL if x.ndim == 4 else "")))
    if x.ndim == 4:
        mistakes.append((formula(count=x.shape[0]), "the training-mode formula with m = N, the batch size: "
                                                    + PER_CHANNEL))
    return mistakes


@pytest.mark.parametrize("dims, shape", [(1, (6, 4)), (2, (3, 2, 3, 4))], ids=["1d", "2d"])
def test_training_backward_matches_finite_differences_with_random_upstream_gradients(ex, pkg, ref, rng,
                                                                                     dims, shape):
    layer = make_layer(pkg, rng, dims, shape[1], eps=1e-3)
    gamma, beta = layer.gamma.data.copy(), layer.beta.data.copy()
    x = batch(rng, shape)
    grad_out = random_upstream(rng, shape)
    name = layer_name(dims)
    with explain_axes(f"{name}.forward"):  # a wrong axis shows here first, with the advice about axes
        layer.forward(x)
    with explain_axes(f"{name}.backward"):  # and here, before the check below runs backward again
        layer.backward(grad_out)
        layer.forward(x)
    with explain_axes(f"{name}.backward"):
        check_layer_backward(ref, layer, x, grad_out, layer_name=name, alternatives={
            "x": lambda: gradient_mistakes(x, grad_out, gamma, beta, 1e-3)})


@pytest.mark.parametrize("dims, shape", [(1, (16, 5)), (2, (4, 3, 5, 5))], ids=["1d", "2d"])
def test_training_backward_matches_pytorch(ex, pkg, rng, dims, shape):
    ours = make_layer(pkg, rng, dims, shape[1])
    gamma, beta = ours.gamma.data.copy(), ours.beta.data.copy()
    x = batch(rng, shape)
    grad_out = random_upstream(rng, shape)
    name = layer_name(dims)
    x_before, grad_before = x.copy(), grad_out.copy()
    with explain_axes(f"{name}.backward"):
        ours.zero_grad()
        ours.forward(x)
        grad_x = ours.backward(grad_out)

    def pytorch():
        theirs = torch_layer(dims, gamma, beta)
        _, grad = torch_train_step(theirs, x, grad_out)
        return grad, theirs.weight.grad.numpy(), theirs.bias.grad.numpy()

    expected = once(pytorch)
    check_unchanged(f"{name}.forward", x_before, x)
    check_unchanged(f"{name}.backward", grad_before, grad_out)
    check_close_ref(f"{name}.backward: dL/dx", grad_x, lambda: expected()[0],
                    alternatives=lambda: gradient_mistakes(x, grad_out, gamma, beta, 1e-5), **TIGHT)
    axes = axes_of(x)
    x_hat = once(lambda: (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5))
    check_close_ref(f"{name}.backward: dL/dgamma (in gamma.grad)", ours.gamma.grad, lambda: expected()[1],
                    alternatives=lambda: [((grad_out * x).sum(axis=axes), "sum(dL/dy * x): dL/dgamma = sum(dL/dy * "
                                                                          "x_hat), the normalised input."),
                                          ((grad_out * x_hat()).sum(axis=axes) * gamma, "sum(dL/dy * x_hat) times "
                                           "gamma: dL/dgamma = sum(dL/dy * x_hat), without a factor gamma."),
                                          ((grad_out * x_hat()).mean(axis=axes), "the mean of dL/dy * x_hat: "
                                           f"dL/dgamma is its sum over the axes {axes}.")], **TIGHT)
    check_close_ref(f"{name}.backward: dL/dbeta (in beta.grad)", ours.beta.grad, lambda: expected()[2],
                    alternatives=lambda: [(grad_out.mean(axis=axes), "the mean of dL/dy: dL/dbeta is its sum over the "
                                                                     f"axes {axes}.")], **TIGHT)

    def channel_sums(grad):
        return np.asarray(grad, dtype=np.float64).sum(axis=axes)

    check_that(f"{name}.backward: the sum of dL/dx over each channel", grad_x,
               lambda grad: np.allclose(channel_sums(grad), 0.0, atol=1e-8 * np.abs(grad).sum()),
               lambda grad: f"{name}.backward: the x-gradient of each channel should sum to zero (shifting a "
                            "channel by a constant does not change x_hat), but the sums are "
                            f"{channel_sums(grad)}.")


def test_parameter_gradients_are_added_not_assigned(ex, pkg, rng):
    layer = make_layer(pkg, rng, 1, 3)
    gamma, beta = layer.gamma.data.copy(), layer.beta.data.copy()
    x = batch(rng, (6, 3))
    first, second = random_upstream(rng, x.shape), random_upstream(rng, x.shape)
    layer.zero_grad()
    layer.forward(x)
    layer.backward(first)
    layer.forward(x)
    layer.backward(second)

    def pytorch(upstreams):
        """PyTorch's (gamma.grad, beta.grad) after a training forward and backward for each upstream."""
        theirs = torch_layer(1, gamma, beta)
        for upstream in upstreams:
            torch_train_step(theirs, x, upstream)
        return theirs.weight.grad.numpy(), theirs.bias.grad.numpy()

    both, last = once(lambda: pytorch([first, second])), once(lambda: pytorch([second]))
    check_close_ref("gamma.grad after two backward passes without zero_grad", layer.gamma.grad, lambda: both()[0],
                    alternatives=lambda: [(last()[0], "the last pass's gradient only: add (+=) into gamma.grad.")],
                    **TIGHT)
    check_close_ref("beta.grad after two backward passes without zero_grad", layer.beta.grad, lambda: both()[1],
                    alternatives=lambda: [(last()[1], "the last pass's gradient only: add (+=) into beta.grad.")],
                    **TIGHT)


@pytest.mark.parametrize("dims, shape", [(1, (6, 4)), (2, (3, 4, 2, 3))], ids=["1d", "2d"])
def test_a_float32_layer_keeps_float32_everywhere(ex, pkg, rng, dims, shape):
    name = layer_name(dims)
    layer = getattr(ex, name)(shape[1], dtype=np.float32)
    x = batch(rng, shape).astype(np.float32)
    grad_out = random_upstream(rng, shape).astype(np.float32)
    y = layer.forward(x)
    grad_x = layer.backward(grad_out)
    float32 = dict(rtol=1e-4, atol=1e-5)  # a float64 value is reported with its dtype by the check itself
    for what, value in (("gamma", layer.gamma.data), ("beta", layer.beta.data), ("running_mean", layer.running_mean),
                        ("running_var", layer.running_var)):
        check_that(f"the dtype of {name}(..., dtype=np.float32).{what} after a training step", value,
                   lambda v: getattr(v, "dtype", None) == np.float32,
                   lambda v, what=what: f"{name}(..., dtype=np.float32).{what} is {getattr(v, 'dtype', type(v))}: "
                                        f"create {what} with dtype=dtype (np.ones(C) alone is float64), and keep it "
                                        "float32 when it is updated.")
    x64, g64 = x.astype(np.float64), grad_out.astype(np.float64)
    check_close_ref(f"{name}(..., dtype=np.float32).forward of float32 x", y,
                    lambda: torch_train_step(torch_layer(dims, np.ones(shape[1]), np.zeros(shape[1])), x64)[0],
                    alternatives=lambda: forward_mistakes(x64, np.ones(shape[1]), np.zeros(shape[1]), 1e-5, 0.1,
                                                          np.zeros(shape[1]), np.ones(shape[1])), **float32)
    check_close_ref(f"{name}(..., dtype=np.float32).backward: dL/dx", grad_x, lambda: torch_train_step(
        torch_layer(dims, np.ones(shape[1]), np.zeros(shape[1])), x64, g64)[1], alternatives=lambda: gradient_mistakes(
        x64, g64, np.ones(shape[1]), np.zeros(shape[1]), 1e-5), **float32)
