"""Stretch exercise (batchnorm): BatchNorm1d and BatchNorm2d, training and eval mode.

Expected values come from the reference, which `make test` checks against torch.nn.BatchNorm1d/2d in
float64 (forward, running statistics, gradients; grader/feedback/oracle.py), from finite
differences with random upstream gradients (with dL/dy = ones the x-gradient of batch norm
is exactly zero, which hides most mistakes), and from closed forms of the usual mistakes, written out
below so that a failure can say which one it is. All of them are computed by the judge (callables).
"""

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_raises, check_that
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import once, random_upstream, shape_errors_explained

TIGHT = dict(rtol=1e-9, atol=1e-12)  # float64 against float64: only rounding differs


# The two likely reasons for a broadcasting error inside BatchNorm2d (its shapes say which): a sum over the
# wrong axes, or a per-channel (C,) array used against (N, C, H, W) without reshaping.
AXES_ADVICE = ("For (N, C, H, W) input every per-channel quantity (mean, variance, dL/dgamma, dL/dbeta and "
               "the sums in dL/dx) is reduced over axes (0, 2, 3), per channel over N, H and W, leaving C: a sum "
               "over axis 0 only leaves a (C, H, W) array. And a (C,) array (gamma, beta, running statistics, a "
               "sum taken without keepdims=True) lines up with the LAST axis, W: reduce with keepdims=True, or "
               "reshape it to (1, C, 1, 1), to act per channel.")

# What a channel of BatchNorm2d's input is: the sentence every 2d-specific diagnosis ends with.
PER_CHANNEL = ("BatchNorm2d normalises per channel over N, H and W: a channel of (N, C, H, W) input has "
               "m = N H W values (every image, every position), and every mean, variance, sum and m is taken "
               "over axes (0, 2, 3).")


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


def layer_name(dims):
    """The class under test, named by the test (never by the learner's objects: names must match)."""
    return "BatchNorm1d" if dims == 1 else "BatchNorm2d"


def make_layer(pkg, rng, dims, channels, **options):
    """Our layer, with random gamma and beta drawn from the test's generator."""
    layer = getattr(pkg.batchnorm, layer_name(dims))(channels, **options)
    layer.gamma.data[...] = rng.uniform(0.5, 2.0, size=channels)
    layer.beta.data[...] = rng.standard_normal(channels)
    return layer


def torch_layer(dims, gamma, beta, **options):
    """torch.nn.BatchNorm1d/2d in float64 with the given gamma and beta (judge only)."""
    torch = oracle.torch
    theirs = (torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d)(len(gamma), dtype=torch.float64,
                                                                           **options)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    return theirs


def axes_of(x):
    return (0,) if x.ndim == 2 else (0, 2, 3)


def per_channel(v, x):
    return np.asarray(v).reshape((1, -1) + (1,) * (x.ndim - 2))


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
    mistakes = [
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
        (normalise(x, mean, var, eps, beta, gamma), "beta * x_hat + gamma, gamma and beta swapped: y = gamma * x_hat "
                                                    "+ beta (gamma scales, beta shifts)."),
        (normalise(x, mean, (np.sqrt(var) + eps) ** 2 - eps, eps, gamma, beta),
         "x - mean divided by sqrt(var) + eps, eps outside the square root: divide by sqrt(var + eps)."),
        (normalise(x, mean, np.square(var + eps) - eps, eps, gamma, beta),
         "x - mean divided by var + eps, the variance where its square root belongs: divide by sqrt(var + eps)."),
        (per_channel(gamma, x) * (x - per_channel(mean, x)) * np.sqrt(per_channel(var, x) + eps) + per_channel(beta, x),
         "x - mean MULTIPLIED by the standard deviation sqrt(var + eps): divide by it (or multiply by its inverse)."),
        (normalise(x, np.zeros_like(mean), var, eps, gamma, beta),
         "x divided by the standard deviation but not centred: subtract the batch mean first, x - mean."),
        (normalise(x, np.full_like(mean, x.mean()), np.full_like(var, x.var()), eps, gamma, beta),
         "x normalised with ONE mean and variance over the whole batch, every channel together: each channel has "
         "its own statistics, over the axes of that channel's values."),
    ]
    if x.ndim == 4:
        n = x.shape[0]
        over_n = x.sum(axis=axes) / n
        over_n_var = ((x - per_channel(over_n, x)) ** 2).sum(axis=axes) / n
        mean0, var0 = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
        mistakes += [
            (per_channel(gamma, x) * (x - mean0) / np.sqrt(var0 + eps) + per_channel(beta, x),
             "x normalised over the batch axis 0 only, separately for every channel AND position: " + PER_CHANNEL),
            (normalise(x, over_n, over_n_var, eps, gamma, beta),
             "the mean and variance summed over N, H and W but divided by m = N, the batch size: " + PER_CHANNEL),
        ]
    return mistakes


def eval_mistakes(x, running_mean, running_var, eps, gamma, beta):
    """Eval-mode outputs of the usual mistakes: a batch statistic where the running one belongs (each in turn)."""
    mean, var = x.mean(axis=axes_of(x)), x.var(axis=axes_of(x))
    advice = "in eval mode (self.training is False) normalise with running_mean and running_var."
    return [(normalise(x, mean, var, eps, gamma, beta), "x normalised with the batch's own statistics: " + advice),
            (normalise(x, running_mean, var, eps, gamma, beta),
             "x normalised with the running mean but the batch's own variance: " + advice),
            (normalise(x, mean, running_var, eps, gamma, beta),
             "x normalised with the batch's own mean but the running variance: " + advice),
            (normalise(x, running_mean, np.square(running_var + eps) - eps, eps, gamma, beta),
             "x divided by running_var + eps, not by its square root: x_hat = (x - mean) / sqrt(var + eps)."),
            (normalise(x, running_mean, running_var, eps, np.ones_like(gamma), np.zeros_like(beta)),
             "x_hat without gamma and beta: return gamma * x_hat + beta in eval mode too.")]


def running_mistakes(batches, momentum, channels):
    """Running statistics after several batches for the usual update mistakes."""
    biased_var, reversed_mean, reversed_var = np.ones(channels), np.zeros(channels), np.ones(channels)
    last_mean, last_var = batches[-1].mean(axis=axes_of(batches[-1])), batches[-1].var(axis=axes_of(batches[-1]))
    m_last = batches[-1].size // channels
    batch_size_var, inverted_var, std_var = np.ones(channels), np.ones(channels), np.ones(channels)
    unweighted_mean, unweighted_var = np.zeros(channels), np.ones(channels)
    for x in batches:
        axes = axes_of(x)
        m, n = x.size // channels, x.shape[0]
        mu, v = x.mean(axis=axes), x.var(axis=axes)
        biased_var = (1 - momentum) * biased_var + momentum * v
        reversed_mean = momentum * reversed_mean + (1 - momentum) * mu
        reversed_var = momentum * reversed_var + (1 - momentum) * v * m / (m - 1)
        batch_size_var = (1 - momentum) * batch_size_var + momentum * v * n / (n - 1)
        inverted_var = (1 - momentum) * inverted_var + momentum * v * (m - 1) / m
        unweighted_mean, unweighted_var = unweighted_mean + momentum * mu, unweighted_var + momentum * v * m / (m - 1)
        std_var = (1 - momentum) * std_var + momentum * np.sqrt(v) * m / (m - 1)
    mistakes = {
        "mean": [(reversed_mean, "the running mean with the weights swapped: new = (1 - momentum) * running "
                                 "+ momentum * batch (momentum = 0.1 is the weight of the NEW batch)."),
                 (last_mean, "the last batch's mean: the running mean was overwritten instead of averaged, new = "
                             "(1 - momentum) * running + momentum * batch."),
                 (np.zeros(channels), "its initial value: the running mean was never updated in training mode."),
                 (unweighted_mean, "running + momentum * batch, the old value not weighted by (1 - momentum): a "
                                   "moving average is (1 - momentum) * running + momentum * batch.")],
        "var": [(biased_var, "the running variance updated with the biased variance: the running estimate "
                             "uses the unbiased var * m / (m - 1), like PyTorch."),
                (inverted_var, "the running variance scaled by (m - 1) / m: the unbiased estimate is var * m / (m - "
                               "1), Bessel's correction, larger than the biased var."),
                (last_var * m_last / (m_last - 1), "the last batch's (unbiased) variance: the running variance was "
                                                   "overwritten instead of averaged, new = (1 - momentum) * running "
                                                   "+ momentum * batch."),
                (unweighted_var, "running + momentum * batch, the old value not weighted by (1 - momentum): a "
                                 "moving average is (1 - momentum) * running + momentum * batch."),
                (std_var, "the running variance updated with the batch's standard deviation sqrt(var): it averages "
                          "the (unbiased) variance itself."),
                (reversed_var, "the running variance with the weights swapped: new = (1 - momentum) * running "
                               "+ momentum * batch (momentum = 0.1 is the weight of the NEW batch).")],
    }
    if batches[0].ndim == 4:
        mistakes["var"].append((batch_size_var, "the running variance unbiased with m / (m - 1) for m = N, the "
                                                "batch size: " + PER_CHANNEL))
    return mistakes


def torch_train_step(theirs, x, grad_out=None):
    torch = oracle.torch
    tx = torch.tensor(x, requires_grad=True)
    y = theirs(tx)
    if grad_out is None:
        return y.detach().numpy(), None
    y.backward(torch.tensor(grad_out))
    return y.detach().numpy(), tx.grad.numpy()


def test_batchnorm_starts_with_gamma_ones_beta_zeros_and_unit_running_variance(ex, pkg, rng):
    for name, shape in (("BatchNorm1d", (4, 5)), ("BatchNorm2d", (2, 5, 3, 3))):
        layer = getattr(ex, name)(5)
        check_equal(f"{name}.gamma and .beta are Parameters", isinstance(layer.gamma, pkg.layers.Parameter)
                    and isinstance(layer.beta, pkg.layers.Parameter), True,
                    f"{name}.gamma and .beta must be Parameters (from .layers), so optimisers find them.")
        for what, value, start in (("gamma", layer.gamma.data, 1), ("beta", layer.beta.data, 0),
                                   ("running_mean", layer.running_mean, 0), ("running_var", layer.running_var, 1)):
            check_close(f"{name}(5).{what}", value, np.full(5, float(start)), alternatives=[(np.full(5, 1.0 - start), (
                f"{1 - start}s: {what} is initialised to {start}, np.{('zeros', 'ones')[start]}(num_features) as in "
                "PyTorch (gamma starts at one and beta at zero; the running mean at 0 and the running variance at 1)."
            ))])
        check_equal(f"{name}.named_parameters()", sorted(n for n, _ in layer.named_parameters()), ["beta", "gamma"],
                    lambda names, name=name: (
                        f"{name}.named_parameters() gives {names}; expected ['beta', 'gamma']: the running "
                        "averages are plain arrays (estimated, never trained), not Parameters."))
        # The same start, seen through values: what a new layer computes in eval mode (PyTorch's, in make test).
        x = rng.standard_normal(shape)
        layer.eval()
        check_close_ref(f"a new {name}(5) in eval mode: forward", layer.forward(x), lambda x=x: oracle.F.batch_norm(
            oracle.torch.tensor(x), oracle.torch.zeros(5, dtype=oracle.torch.float64),
            oracle.torch.ones(5, dtype=oracle.torch.float64), training=False, eps=1e-5).numpy(),
            alternatives=lambda x=x: eval_mistakes(x, np.zeros(5), np.ones(5), 1e-5, np.ones(5), np.zeros(5)))


@pytest.mark.parametrize("dims, shape", [(1, (8, 5)), (2, (4, 3, 5, 6))], ids=["1d", "2d"])
def test_training_forward_matches_pytorch(ex, pkg, rng, dims, shape):
    ours = make_layer(pkg, rng, dims, shape[1], eps=1e-3)
    gamma, beta = ours.gamma.data.copy(), ours.beta.data.copy()
    x = batch(rng, shape)
    name = layer_name(dims)
    with explain_axes(f"{name}.forward"):
        y = ours.forward(x)
    check_close_ref(f"{name}.forward in training mode", y,
                    lambda: torch_train_step(torch_layer(dims, gamma, beta, eps=1e-3), x)[0],
                    alternatives=lambda: forward_mistakes(x, gamma, beta, 1e-3, 0.1, np.zeros(shape[1]),
                                                          np.ones(shape[1])), **TIGHT)


@pytest.mark.parametrize("dims, shape", [(1, (6, 4)), (2, (3, 2, 4, 5))], ids=["1d", "2d"])
def test_running_statistics_match_pytorch_after_several_steps(ex, pkg, rng, dims, shape):
    channels = shape[1]
    ours = make_layer(pkg, rng, dims, channels)  # default eps and momentum, like PyTorch's
    gamma, beta = ours.gamma.data.copy(), ours.beta.data.copy()
    batches = [batch(rng, shape) for _ in range(4)]
    name = layer_name(dims)
    for x in batches:
        with explain_axes(f"{name}.forward"):
            ours.forward(x)

    def pytorch():
        theirs = torch_layer(dims, gamma, beta)
        for x in batches:
            torch_train_step(theirs, x)
        return theirs.running_mean.numpy(), theirs.running_var.numpy()

    expected = once(pytorch)
    mistakes = once(lambda: running_mistakes(batches, 0.1, channels))
    check_close_ref(f"{name}.running_mean after 4 training steps (momentum 0.1)", ours.running_mean,
                    lambda: expected()[0], alternatives=lambda: mistakes()["mean"], **TIGHT)
    check_close_ref(f"{name}.running_var after 4 training steps (momentum 0.1)", ours.running_var,
                    lambda: expected()[1], alternatives=lambda: mistakes()["var"], **TIGHT)


@pytest.mark.parametrize("dims, shape", [(1, (6, 4)), (2, (3, 2, 4, 5))], ids=["1d", "2d"])
def test_eval_mode_uses_the_running_statistics_and_matches_pytorch(ex, pkg, rng, dims, shape):
    channels = shape[1]
    ours = make_layer(pkg, rng, dims, channels, momentum=0.3)
    gamma, beta = ours.gamma.data.copy(), ours.beta.data.copy()
    name = layer_name(dims)
    batches = [batch(rng, shape) for _ in range(3)]
    for x in batches:
        with explain_axes(f"{name}.forward"):
            ours.forward(x)
    ours.eval()
    x = batch(rng, shape) + 1.0
    grad_out = random_upstream(rng, shape)
    before = [ours.running_mean.copy(), ours.running_var.copy()]
    with explain_axes(f"{name}.forward"):
        y = ours.forward(x)
    with explain_axes(f"{name}.backward"):
        ours.zero_grad()
        grad_x = ours.backward(grad_out)

    def pytorch():
        theirs = torch_layer(dims, gamma, beta, momentum=0.3)
        for old in batches:
            torch_train_step(theirs, old)
        theirs.eval()
        return torch_train_step(theirs, x, grad_out) + (theirs.running_mean.numpy(), theirs.running_var.numpy())

    expected = once(pytorch)
    check_close_ref(f"{name}.forward in eval mode", y, lambda: expected()[0], alternatives=lambda: eval_mistakes(
        x, expected()[2], expected()[3], 1e-5, gamma, beta), **TIGHT)
    check_that(f"{name}'s running averages before and after a forward in eval mode",
               before + [ours.running_mean, ours.running_var],
               lambda v: np.array_equal(v[0], v[2]) and np.array_equal(v[1], v[3]),
               f"{name}.forward in eval mode changed the running averages: in eval mode they must stay unchanged "
               "(frozen); update the running averages in training mode only.")

    def eval_gradient_mistakes():
        _, _, running_mean, running_var = expected()
        axes, m = axes_of(x), x.size // channels
        s = 1.0 / np.sqrt(per_channel(running_var, x) + 1e-5)
        x_hat = (x - per_channel(running_mean, x)) * s
        g_hat = grad_out * per_channel(gamma, x)
        training_formula = s / m * (m * g_hat - g_hat.sum(axis=axes, keepdims=True)
                                    - x_hat * (g_hat * x_hat).sum(axis=axes, keepdims=True))
        return [(training_formula, "the training-mode formula: in eval mode the running mean and variance are "
                                   "constants, so dL/dx = dL/dy * gamma / sqrt(running_var + eps)."),
                (grad_out * s, "dL/dy * s without gamma: in eval mode dL/dx = dL/dy * gamma / "
                               "sqrt(running_var + eps)."),
                (grad_out * per_channel(beta, x) * s, "dL/dy * beta * s, beta instead of gamma: in eval mode dL/dx = "
                                                      "dL/dy * gamma / sqrt(running_var + eps)."),
                (g_hat, "dL/dy * gamma without the factor s = 1 / sqrt(running_var + eps): in eval mode dL/dx = dL/dy "
                        "* gamma / sqrt(running_var + eps)."),
                (g_hat * s * s, "dL/dy * gamma / (running_var + eps), the variance where its square root (the "
                                "standard deviation) belongs: dL/dx = dL/dy * gamma / sqrt(running_var + eps).")]

    check_close_ref(f"{name}.backward in eval mode: dL/dx", grad_x, lambda: expected()[1],
                    alternatives=eval_gradient_mistakes, **TIGHT)


def wrong_shape_message(name, shape):
    def message(outcome):
        raised = outcome.get("raised") if isinstance(outcome, dict) else None
        what = (f"raised {raised[0]} ({str(outcome.get('message', ''))[:200]}) for" if raised else "accepted")
        return (f"{name}(3).forward {what} an input of shape {shape}: raise ValueError when the channel axis 1 "
                "does not have num_features entries.")
    return message


@pytest.mark.fact
def test_batchnorm_rejects_inputs_of_the_wrong_shape(ex):
    for name, bad in (("BatchNorm1d", np.zeros((4, 5))), ("BatchNorm2d", np.zeros((4, 3))),
                      ("BatchNorm2d", np.zeros((2, 5, 4, 4)))):
        layer = getattr(ex, name)(3)
        check_raises(f"{name}(3).forward of an input of shape {bad.shape}", ValueError,
                     lambda layer=layer, bad=bad: layer.forward(bad), message=wrong_shape_message(name, bad.shape))
