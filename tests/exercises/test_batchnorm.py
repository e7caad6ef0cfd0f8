"""Stretch exercise (batchnorm): BatchNorm1d and BatchNorm2d, training and eval mode.

Expected values come from torch.nn.BatchNorm1d/2d in float64 (forward, running statistics, gradients),
from finite differences with random upstream gradients (with dL/dy = ones the x-gradient of batch norm
is exactly zero, which hides most mistakes), and from closed forms of the usual mistakes, written out
below so that a failure can say which one it is.
"""

import numpy as np
import pytest
import torch

from grader.feedback.diagnose import check_close
from helpers import assert_unchanged, check_layer_backward, random_upstream, shape_errors_explained

TIGHT = dict(rtol=1e-9, atol=1e-12)  # float64 against float64: only rounding differs


# The likely reason for a broadcasting error inside BatchNorm2d: a sum over the wrong axes.
AXES_ADVICE = ("For (N, C, H, W) input every per-channel quantity (mean, variance, dL/dgamma, dL/dbeta and "
               "the sums in dL/dx) is reduced over axes (0, 2, 3): N, H and W, leaving C. Summing over axis "
               "0 only leaves a (C, H, W) array.")


def explain_axes(what):
    return shape_errors_explained(what, advice=AXES_ADVICE)


def batch(rng, shape):
    """Float64 data with a different offset and scale per channel, so statistics really matter."""
    channels = shape[1]
    view = [1] * len(shape)
    view[1] = channels
    offset = rng.uniform(-3, 3, size=channels).reshape(view)
    scale = rng.uniform(0.5, 3, size=channels).reshape(view)
    return offset + scale * rng.standard_normal(shape)


def make_pair(pkg, rng, dims, channels, **options):
    """(our layer with random gamma and beta, the same torch.nn.BatchNorm layer in float64)."""
    ours = (pkg.batchnorm.BatchNorm1d if dims == 1 else pkg.batchnorm.BatchNorm2d)(channels, **options)
    ours.gamma.data[...] = rng.uniform(0.5, 2.0, size=channels)
    ours.beta.data[...] = rng.standard_normal(channels)
    theirs = (torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d)(channels, dtype=torch.float64,
                                                                           **options)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.gamma.data))
        theirs.bias.copy_(torch.tensor(ours.beta.data))
    return ours, theirs


def axes_of(x):
    return (0,) if x.ndim == 2 else (0, 2, 3)


def per_channel(v, x):
    shape = [1] * x.ndim
    shape[1] = -1
    return np.asarray(v).reshape(shape)


def normalise(x, mean, var, eps, gamma, beta):
    return per_channel(gamma, x) * (x - per_channel(mean, x)) / np.sqrt(per_channel(var, x) + eps) \
        + per_channel(beta, x)


def forward_mistakes(x, gamma, beta, eps, momentum, running_mean, running_var):
    """Training-mode outputs of the usual forward mistakes, as (array, explanation) pairs."""
    axes = axes_of(x)
    m = x.size // x.shape[1]
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    updated_mean = (1 - momentum) * running_mean + momentum * mean
    updated_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    return [
        (normalise(x, mean, var * m / (m - 1), eps, gamma, beta),
         "x normalised with the unbiased variance (divide by m - 1): training mode normalises with the "
         "biased batch variance (divide by m); only the running estimate uses m / (m - 1)."),
        (normalise(x, mean, var, 0.0, gamma, beta), "x normalised without eps: use sqrt(var + eps)."),
        (normalise(x, running_mean, running_var, eps, gamma, beta),
         "x normalised with the running averages: in training mode normalise with the batch's own mean "
         "and variance (the running averages are for eval mode)."),
        (normalise(x, updated_mean, updated_var, eps, gamma, beta),
         "x normalised with the (just updated) running averages: in training mode normalise with the "
         "batch's own mean and variance (the running averages are for eval mode)."),
        (normalise(x, mean, var, eps, np.ones_like(gamma), np.zeros_like(beta)),
         "x_hat without gamma and beta: return gamma * x_hat + beta."),
    ]


def running_mistakes(batches, momentum, channels):
    """Running statistics after several batches for the usual update mistakes."""
    biased_var, reversed_mean, reversed_var = np.ones(channels), np.zeros(channels), np.ones(channels)
    for x in batches:
        axes = axes_of(x)
        m = x.size // channels
        mu, v = x.mean(axis=axes), x.var(axis=axes)
        biased_var = (1 - momentum) * biased_var + momentum * v
        reversed_mean = momentum * reversed_mean + (1 - momentum) * mu
        reversed_var = momentum * reversed_var + (1 - momentum) * v * m / (m - 1)
    return {
        "mean": [(reversed_mean, "the running mean with the weights swapped: new = (1 - momentum) * running "
                                 "+ momentum * batch (momentum = 0.1 is the weight of the NEW batch).")],
        "var": [(biased_var, "the running variance updated with the biased variance: the running estimate "
                             "uses the unbiased var * m / (m - 1), like PyTorch."),
                (reversed_var, "the running variance with the weights swapped: new = (1 - momentum) * running "
                               "+ momentum * batch (momentum = 0.1 is the weight of the NEW batch).")],
    }


def gradient_mistakes(x, grad_out, gamma, eps):
    """Training-mode dL/dx of the usual backward mistakes."""
    axes = axes_of(x)
    m = x.size // x.shape[1]
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    s = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * s
    g_hat = grad_out * per_channel(gamma, x)
    sum_g = g_hat.sum(axis=axes, keepdims=True)
    sum_gx = (g_hat * x_hat).sum(axis=axes, keepdims=True)
    return [
        (s / m * (m * g_hat - x_hat * sum_gx),
         "the gradient without the mean's term (- sum g_hat): the batch mean depends on every x, so "
         "dL/dx = (s / m) (m g_hat - sum g_hat - x_hat sum(g_hat x_hat))."),
        (s / m * (m * g_hat - sum_g),
         "the gradient without the variance's term (- x_hat sum(g_hat x_hat)): the batch variance depends "
         "on every x, so dL/dx = (s / m) (m g_hat - sum g_hat - x_hat sum(g_hat x_hat))."),
        (s * g_hat, "s * g_hat, as if mean and variance were constants: that is the eval-mode gradient; in "
                    "training mode both depend on x."),
        (s / m * (m * grad_out - grad_out.sum(axis=axes, keepdims=True)
                  - x_hat * (grad_out * x_hat).sum(axis=axes, keepdims=True)),
         "the gradient without the factor gamma: g_hat = dL/dy * gamma."),
    ]


def torch_train_step(theirs, x, grad_out=None):
    tx = torch.tensor(x, requires_grad=True)
    y = theirs(tx)
    if grad_out is None:
        return y.detach().numpy(), None
    y.backward(torch.tensor(grad_out))
    return y.detach().numpy(), tx.grad.numpy()


def test_batchnorm_starts_with_gamma_ones_beta_zeros_and_unit_running_variance(ex, pkg):
    for cls in (ex.BatchNorm1d, ex.BatchNorm2d):
        layer = cls(5)
        name = cls.__name__
        assert isinstance(layer.gamma, pkg.layers.Parameter) and isinstance(layer.beta, pkg.layers.Parameter), (
            f"{name}.gamma and .beta must be Parameters (from .layers), so optimisers find them."
        )
        check_close(f"{name}(5).gamma", layer.gamma.data, np.ones(5))
        check_close(f"{name}(5).beta", layer.beta.data, np.zeros(5))
        check_close(f"{name}(5).running_mean", layer.running_mean, np.zeros(5))
        check_close(f"{name}(5).running_var", layer.running_var, np.ones(5))
        names = sorted(n for n, _ in layer.named_parameters())
        assert names == ["beta", "gamma"], (
            f"{name}.named_parameters() gives {names}; expected ['beta', 'gamma']: the running averages are "
            "plain arrays (estimated, never trained), not Parameters."
        )


@pytest.mark.parametrize("dims, shape", [(1, (8, 5)), (2, (4, 3, 5, 6))], ids=["1d", "2d"])
def test_training_forward_matches_pytorch(ex, pkg, rng, dims, shape):
    ours, theirs = make_pair(pkg, rng, dims, shape[1], eps=1e-3)
    x = batch(rng, shape)
    mistakes = forward_mistakes(x, ours.gamma.data, ours.beta.data, 1e-3, 0.1, np.zeros(shape[1]),
                                np.ones(shape[1]))
    name = type(ours).__name__
    with explain_axes(f"{name}.forward"):
        y = ours.forward(x)
    expected, _ = torch_train_step(theirs, x)
    check_close(f"{name}.forward in training mode", y, expected, alternatives=mistakes, **TIGHT)


@pytest.mark.parametrize("dims, shape", [(1, (6, 4)), (2, (3, 2, 4, 5))], ids=["1d", "2d"])
def test_running_statistics_match_pytorch_after_several_steps(ex, pkg, rng, dims, shape):
    channels = shape[1]
    ours, theirs = make_pair(pkg, rng, dims, channels)  # default eps and momentum, like PyTorch's
    batches = [batch(rng, shape) for _ in range(4)]
    name = type(ours).__name__
    for x in batches:
        with explain_axes(f"{name}.forward"):
            ours.forward(x)
        torch_train_step(theirs, x)
    mistakes = running_mistakes(batches, 0.1, channels)
    check_close(f"{name}.running_mean after 4 training steps (momentum 0.1)", ours.running_mean,
                theirs.running_mean.numpy(), alternatives=mistakes["mean"], **TIGHT)
    check_close(f"{name}.running_var after 4 training steps (momentum 0.1)", ours.running_var,
                theirs.running_var.numpy(), alternatives=mistakes["var"], **TIGHT)


@pytest.mark.parametrize("dims, shape", [(1, (6, 4)), (2, (3, 2, 4, 5))], ids=["1d", "2d"])
def test_eval_mode_uses_the_running_statistics_and_matches_pytorch(ex, pkg, rng, dims, shape):
    channels = shape[1]
    ours, theirs = make_pair(pkg, rng, dims, channels, momentum=0.3)
    name = type(ours).__name__
    for _ in range(3):
        x = batch(rng, shape)
        with explain_axes(f"{name}.forward"):
            ours.forward(x)
        torch_train_step(theirs, x)
    ours.eval()
    theirs.eval()
    x = batch(rng, shape) + 1.0
    grad_out = random_upstream(rng, shape)
    mean_before, var_before = ours.running_mean.copy(), ours.running_var.copy()
    with explain_axes(f"{name}.forward"):
        y = ours.forward(x)
    with explain_axes(f"{name}.backward"):
        ours.zero_grad()
        grad_x = ours.backward(grad_out)
    expected, expected_grad = torch_train_step(theirs, x, grad_out)
    batch_stats = normalise(x, x.mean(axis=axes_of(x)), x.var(axis=axes_of(x)), 1e-5, ours.gamma.data,
                            ours.beta.data)
    check_close(f"{name}.forward in eval mode", y, expected, alternatives=[
        (batch_stats, "x normalised with the batch's own statistics: in eval mode (self.training is False) "
                      "normalise with running_mean and running_var.")], **TIGHT)
    assert np.array_equal(ours.running_mean, mean_before) and np.array_equal(ours.running_var, var_before), (
        f"{name}.forward in eval mode changed the running averages: update them in training mode only."
    )
    axes, m = axes_of(x), x.size // channels
    s = 1.0 / np.sqrt(per_channel(ours.running_var, x) + 1e-5)
    x_hat = (x - per_channel(ours.running_mean, x)) * s
    g_hat = grad_out * per_channel(ours.gamma.data, x)
    training_formula = s / m * (m * g_hat - g_hat.sum(axis=axes, keepdims=True)
                                - x_hat * (g_hat * x_hat).sum(axis=axes, keepdims=True))
    check_close(f"{name}.backward in eval mode: dL/dx", grad_x, expected_grad, alternatives=[
        (training_formula, "the training-mode formula: in eval mode the running mean and variance are "
                           "constants, so dL/dx = dL/dy * gamma / sqrt(running_var + eps)."),
        (grad_out * s, "dL/dy * s without gamma: in eval mode dL/dx = dL/dy * gamma / sqrt(running_var + eps)."),
    ], **TIGHT)


@pytest.mark.parametrize("dims, shape", [(1, (6, 4)), (2, (3, 2, 3, 4))], ids=["1d", "2d"])
def test_training_backward_matches_finite_differences_with_random_upstream_gradients(ex, pkg, ref, rng,
                                                                                     dims, shape):
    layer, _ = make_pair(pkg, rng, dims, shape[1], eps=1e-3)
    x = batch(rng, shape)
    grad_out = random_upstream(rng, shape)
    name = type(layer).__name__
    with explain_axes(f"{name}.backward"):
        check_layer_backward(ref, layer, x, grad_out, layer_name=name, alternatives={
            "x": gradient_mistakes(x, grad_out, layer.gamma.data, 1e-3)})


@pytest.mark.parametrize("dims, shape", [(1, (16, 5)), (2, (4, 3, 5, 5))], ids=["1d", "2d"])
def test_training_backward_matches_pytorch(ex, pkg, rng, dims, shape):
    ours, theirs = make_pair(pkg, rng, dims, shape[1])
    x = batch(rng, shape)
    grad_out = random_upstream(rng, shape)
    name = type(ours).__name__
    x_before, grad_before = x.copy(), grad_out.copy()
    with explain_axes(f"{name}.backward"):
        ours.zero_grad()
        ours.forward(x)
        grad_x = ours.backward(grad_out)
    _, expected = torch_train_step(theirs, x, grad_out)
    assert_unchanged(f"{name}.forward", x_before, x)
    assert_unchanged(f"{name}.backward", grad_before, grad_out)
    check_close(f"{name}.backward: dL/dx", grad_x, expected,
                alternatives=gradient_mistakes(x, grad_out, ours.gamma.data, 1e-5), **TIGHT)
    axes = axes_of(x)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
    check_close(f"{name}.backward: dL/dgamma (in gamma.grad)", ours.gamma.grad, theirs.weight.grad.numpy(),
                alternatives=[((grad_out * x).sum(axis=axes), "sum(dL/dy * x): dL/dgamma = sum(dL/dy * x_hat), "
                                                              "the normalised input.")], **TIGHT)
    check_close(f"{name}.backward: dL/dbeta (in beta.grad)", ours.beta.grad, theirs.bias.grad.numpy(),
                alternatives=[(grad_out.mean(axis=axes), "the mean of dL/dy: dL/dbeta is its sum over the "
                                                         f"axes {axes}.")], **TIGHT)
    sums = np.asarray(grad_x).sum(axis=axes)
    assert np.allclose(sums, 0.0, atol=1e-8 * np.abs(grad_x).sum()), (
        f"{name}.backward: the x-gradient of each channel should sum to zero (shifting a channel by a "
        f"constant does not change x_hat), but the sums are {sums}."
    )


def test_parameter_gradients_are_added_not_assigned(ex, pkg, rng):
    layer, _ = make_pair(pkg, rng, 1, 3)
    x = batch(rng, (6, 3))
    first, second = random_upstream(rng, x.shape), random_upstream(rng, x.shape)
    layer.zero_grad()
    layer.forward(x)
    layer.backward(first)
    layer.forward(x)
    layer.backward(second)
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    check_close("gamma.grad after two backward passes without zero_grad", layer.gamma.grad,
                ((first + second) * x_hat).sum(axis=0), alternatives=[
                    ((second * x_hat).sum(axis=0), "the last pass's gradient only: add (+=) into gamma.grad.")],
                **TIGHT)
    check_close("beta.grad after two backward passes without zero_grad", layer.beta.grad,
                (first + second).sum(axis=0), alternatives=[
                    (second.sum(axis=0), "the last pass's gradient only: add (+=) into beta.grad.")], **TIGHT)


def test_batchnorm_rejects_inputs_of_the_wrong_shape(ex):
    for layer, bad in ((ex.BatchNorm1d(3), np.zeros((4, 5))), (ex.BatchNorm2d(3), np.zeros((4, 3))),
                       (ex.BatchNorm2d(3), np.zeros((2, 5, 4, 4)))):
        try:
            layer.forward(bad)
        except ValueError:
            continue
        raise AssertionError(f"{type(layer).__name__}(3).forward accepted an input of shape {bad.shape}: "
                             "raise ValueError when the channel axis 1 does not have num_features entries.")
