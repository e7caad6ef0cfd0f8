"""Exercise 4 (gradcheck), check_layer_gradients: on correct layers, and on layers with one known bug each.

The layers are built here on the Layer and Linear of `layers` (the worker of this exercise sees only the
modules gradcheck builds on), reading nothing the docstrings of `layers` do not name. As in
test_gradcheck.py, the whole test body runs in the learner's half; the expected values, the known-wrong
alternatives and the verdicts are the judge's.
"""

import re

import numpy as np
import pytest

from grader.feedback.checks import check_raises, check_that
from grader.feedback.oracle import F, check_close_ref, torch
from grader.feedback.diagnose import relative_error as closed_relative_error
from helpers import own_rng


# ----------------------------------------------------------------------------------------------------
# check_layer_gradients, on correct layers and on layers with one known bug each


def checked(ex, layer, x, **options):
    """ex.check_layer_gradients(layer, x), with a shape error that pairs x's shape with a parameter's explained."""
    __tracebackhide__ = True
    try:
        return ex.check_layer_gradients(layer, x, **options)
    except ValueError as error:
        shapes = {tuple(int(n) for n in found.split(",") if n.strip())
                  for found in re.findall(r"\(([\d, ]+)\)", str(error))}
        if x.shape in shapes and shapes & {p.data.shape for _, p in layer.named_parameters()} - {x.shape}:
            raise AssertionError(f"check_layer_gradients raised ValueError: {error}\nAn array of x's shape {x.shape} "
                                 "met one of a parameter's shape: each parameter's numerical gradient must perturb "
                                 "that parameter's own p.data, not the input x (a gradient taken with respect to x "
                                 "instead of the parameter?).") from error
        if x.dtype == np.float64 and re.search("float|dtype", str(error)):
            raise AssertionError(f"check_layer_gradients rejected a float64 x: {error}\nIts dtype test is wrong: "
                                 "is it `x.dtype is not np.float64`, always True (a dtype is not the class "
                                 "np.float64)? Compare with x.dtype != np.float64.") from error
        raise


def make_linear(pkg, rng, n_in=5, n_out=3):
    """A reference Linear with weights and a non-zero bias (so bias bugs change the output) drawn from the
    test's generator: the learner's and the reference's runs check the same layer."""
    layer = pkg.layers.Linear(n_in, n_out, rng=own_rng())
    layer.W.data[...] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
    layer.b.data[...] = rng.standard_normal(n_out)
    return layer


def broken_linear(pkg, rng, bug, n_in=5, n_out=3):
    """A Linear whose backward has one deliberate bug in one gradient.

    bias_mean:   dL/db averaged over the batch instead of summed (wrong key: "b")
    input_no_t:  dL/dx = G W instead of G W^T, W square (wrong key: "x")
    bias_ones:   dL/db = the number of rows, right only when G is all ones (wrong key: "b")

    Built on the Linear of `layers` (its backward gives the right parts), reading nothing that the
    docstrings of `layers` do not name: the learner's Linear may keep its input under any name.
    """

    class Broken(pkg.layers.Linear):
        def backward(self, grad_out):
            bias_before = self.b.grad.copy()
            grad_x = super().backward(grad_out)
            added = self.b.grad - bias_before  # this call's dL/db, summed over the batch
            if bug == "bias_mean":
                self.b.grad[...] = bias_before + added / len(grad_out)
            elif bug == "bias_ones":
                self.b.grad[...] = bias_before + len(grad_out)
            if bug == "input_no_t":
                return grad_out @ self.W.data  # G W, not G W^T (W is square)
            return grad_x

    layer = Broken(n_in, n_out, rng=own_rng())
    layer.W.data[...] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
    layer.b.data[...] = rng.standard_normal(n_out)
    return layer


def activation(pkg, kind):
    """A correct Tanh, Sigmoid or ReLU layer, written here on the reference Layer: the worker of this
    exercise sees only the modules gradcheck builds on (layers), never the activations exercise's answers."""
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731 - moderate inputs only
    function, slope = {
        "Tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
        "Sigmoid": (sigmoid, lambda x: sigmoid(x) * (1.0 - sigmoid(x))),
        "ReLU": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(x.dtype)),
    }[kind]

    class Activation(pkg.layers.Layer):
        def forward(self, x):
            self._x = x
            return function(x)

        def backward(self, grad_out):
            return grad_out * slope(self._x)

    Activation.__name__ = Activation.__qualname__ = kind
    return Activation()


def doubled(layer):
    """The layer with every gradient its backward gives doubled (the returned dL/dx and what it adds into each
    p.grad): each relative error against the numerical gradient is then ||g|| / ||2 g|| = 1/2."""
    correct = layer.backward

    def backward(grad_out):
        before = [p.grad.copy() for p in layer.parameters()]
        grad_x = correct(grad_out)
        for p, kept in zip(layer.parameters(), before):
            p.grad[...] = kept + 2 * (p.grad - kept)
        return 2 * grad_x

    layer.backward = backward
    return layer


def pytorch_doubled_errors(layer, kind, x, keys):
    """PyTorch's relative errors between the gradients of sum(layer(x) * G) (G drawn from default_rng(0), as the
    checker draws it) and twice those gradients, under sorted(keys): what a correct checker reports for a
    doubled layer (judge only)."""
    tx = torch.tensor(x, requires_grad=True)
    params = {}
    if kind == "Linear":
        params = {name: torch.tensor(p.data, requires_grad=True) for name, p in (("W", layer.W), ("b", layer.b))}
        y = F.linear(tx, params["W"].T, params["b"])
    else:
        y = {"Tanh": torch.tanh, "Sigmoid": torch.sigmoid, "ReLU": torch.relu}[kind](tx)
    upstream = torch.tensor(np.random.default_rng(0).standard_normal(tuple(y.shape)))
    (y * upstream).sum().backward()
    grads = {"x": tx.grad, **{name: p.grad for name, p in params.items()}}
    return np.array([(torch.linalg.norm(grads[k] - 2 * grads[k]) / torch.linalg.norm(2 * grads[k])).item()
                     for k in sorted(keys)])


def errors_of(errors, keys):
    """The errors under `keys` (sorted) as an array, nan where one is missing: a value the judge compares."""
    try:
        return np.array([float(errors[key]) if key in errors else np.nan for key in sorted(keys)])
    except (TypeError, ValueError):
        return np.full(len(keys), np.nan)


def describe_errors(errors):
    """{'x': 1.2e-09, ...} with 3 digits; anything but a dict of numbers as its repr."""
    try:
        return "{" + ", ".join(f"{name!r}: {float(value):.3g}" for name, value in errors.items()) + "}"
    except (AttributeError, TypeError, ValueError):
        return repr(errors)


def has_keys(keys):
    return lambda errors: isinstance(errors, dict) and set(errors) == set(keys)


def input_error_without_upstream(layer, x, seed):
    """The relative error between backward(G) and backward(ones) for G = default_rng(seed)'s upstream: what
    a checker reports under 'x' when it differentiates sum(forward(x)) while backward receives G."""
    upstream = np.random.default_rng(seed).standard_normal(np.shape(layer.forward(x)))
    with_upstream = layer.backward(upstream)
    layer.forward(x)
    return closed_relative_error(with_upstream, layer.backward(np.ones_like(upstream)))


def explain_large_errors_on_a_correct_layer(errors, layer, x, seed=0, correct=None):
    """A sentence for the likely mistake when correct gradients (those named in `correct`, else all) get
    large errors, from the numbers."""
    names = set(errors) if correct is None else set(correct) & set(errors)
    values = np.array([float(errors[name]) for name in names], dtype=float)
    if values.size and np.allclose(values, 0.5, atol=1e-3):
        return ("Every error is 0.5, the relative error between g and 2 g, or g and g / 2: the numerical gradients are "
                "twice or half the analytic ones (a division by eps, or half steps of eps/2 each way). Step by eps "
                "each way and divide the central difference by 2 eps.")
    if values.size and np.allclose(values, 1.0, atol=0.05):
        return ("Every error is about 1: the numerical gradients are zero or unrelated to the analytic ones, as when "
                "f never sees the perturbation, or when the scalar changes between evaluations (an upstream G drawn "
                "anew at each call of the loss: draw it once, before differentiating).")
    if "x" in names and abs(float(errors["x"]) - input_error_without_upstream(layer, x, seed)) < 1e-6:
        return ("The error on 'x' equals that between backward(G) and backward(ones): the scalar you "
                "differentiate numerically must be sum(layer.forward(x) * G), with the same G passed to backward.")
    if correct is None:
        return "The layer is correct, so the checker is wrong: compare its steps with the docstring."
    return "So the checker is wrong: compare its steps with the docstring."


def checker_advice(errors, layer, x, correct, seed=0):
    """When gradients known to be right (`correct`) get large errors too, the checker itself is wrong: a
    sentence saying how, else ''."""
    try:
        wrong = {name: float(errors[name]) for name in correct if float(errors[name]) >= 1e-6}
    except (KeyError, TypeError, ValueError):
        return ""
    if not wrong:
        return ""
    return (f" The gradients under {sorted(wrong)} are right, yet their errors are large "
            f"({describe_errors(wrong)}). " + explain_large_errors_on_a_correct_layer(errors, layer, x, seed, wrong))


@pytest.mark.parametrize("kind", ["Linear", "Tanh", "Sigmoid", "ReLU"])
def test_check_layer_gradients_finds_tiny_errors_for_correct_layers(ex, pkg, rng, kind):
    if kind == "Linear":
        layer = make_linear(pkg, rng)
        keys = {"x", "W", "b"}
    else:
        layer = activation(pkg, kind)
        keys = {"x"}
    x = rng.standard_normal((4, 5))
    errors = checked(ex, layer, x)
    check_that(f"the keys of check_layer_gradients({kind})", errors, has_keys(keys), lambda errors: (
        f"check_layer_gradients({kind}) returned {errors!r}; expected a dict with the keys {sorted(keys)}: "
        "'x' for the input and the names from layer.named_parameters()."))
    check_that(f"check_layer_gradients({kind}) on a correct layer", errors,
               lambda errors: max(float(value) for value in errors.values()) < 1e-6, lambda errors: (
                   f"check_layer_gradients reported {describe_errors(errors)} for the reference {kind}, whose "
                   "backward is correct (central differences agree to about 1e-8). "
                   + explain_large_errors_on_a_correct_layer(errors, layer, x)))
    twice = doubled(make_linear(pkg, rng) if kind == "Linear" else activation(pkg, kind))
    check_close_ref(f"check_layer_gradients({kind}) when backward doubles every gradient, under {sorted(keys)}",
                    errors_of(checked(ex, twice, x), keys),
                    lambda: pytorch_doubled_errors(twice, kind, x, keys), atol=1e-7)


def test_check_layer_gradients_names_the_wrong_gradient_of_a_broken_bias(ex, pkg, rng):
    layer = broken_linear(pkg, rng, "bias_mean")
    x = rng.standard_normal((8, 5))
    errors = checked(ex, layer, x)
    check_that("the keys of check_layer_gradients(Linear)", errors, has_keys({"x", "W", "b"}),
               lambda errors: f"expected the keys ['W', 'b', 'x'], got {describe_errors(errors)}.")
    check_that("check_layer_gradients on a Linear whose dL/db is averaged", errors,
               lambda e: e["b"] > 0.1 and e["x"] < 1e-6 and e["W"] < 1e-6, lambda errors: (
                   "For a Linear whose dL/db is averaged instead of summed (only b.grad is wrong, by the factor "
                   f"1/8) check_layer_gradients reported {describe_errors(errors)}; expected a large error under "
                   "'b' only. Compare each p.grad with the numerical gradient of p.data, under p's own name."
                   + checker_advice(errors, layer, x, {"x", "W"})))


def test_check_layer_gradients_names_the_wrong_input_gradient(ex, pkg, rng):
    layer = broken_linear(pkg, rng, "input_no_t", n_in=4, n_out=4)
    x = rng.standard_normal((6, 4))
    errors = checked(ex, layer, x)
    check_that("check_layer_gradients on a Linear whose dL/dx is G W", errors,
               lambda e: e["x"] > 0.1 and e["W"] < 1e-6 and e["b"] < 1e-6, lambda errors: (
                   "For a Linear whose returned dL/dx is G W instead of G W^T (the parameter gradients are right) "
                   f"check_layer_gradients reported {describe_errors(errors)}; expected a large error under 'x' "
                   "only. The 'x' entry compares the array backward returns with the numerical gradient of x."
                   + checker_advice(errors, layer, x, {"W", "b"})))


def test_check_layer_gradients_names_parameters_of_sublayers(ex, pkg, rng):
    class Block(pkg.layers.Layer):
        def __init__(self):
            super().__init__()
            self.layers = [make_linear(pkg, rng, 5, 4), broken_linear(pkg, rng, "bias_mean", 4, 3)]

        def forward(self, x):
            return self.layers[1].forward(self.layers[0].forward(x))

        def backward(self, grad_out):
            return self.layers[0].backward(self.layers[1].backward(grad_out))

    block = Block()
    x = rng.standard_normal((8, 5))
    errors = checked(ex, block, x)
    check_that("the keys of check_layer_gradients on a block of two Linear layers", errors,
               has_keys({"x", "0.W", "0.b", "1.W", "1.b"}), lambda errors: (
                   f"check_layer_gradients returned {describe_errors(errors)} for a block of two Linear layers; "
                   "expected ['0.W', '0.b', '1.W', '1.b', 'x']: use the names of layer.named_parameters()."))

    def large(errors):
        return sorted(name for name, value in errors.items() if value > 1e-6)

    check_that("check_layer_gradients on a block whose second bias gradient is wrong", errors,
               lambda errors: large(errors) == ["1.b"], lambda errors: (
                   "Only the second layer's bias gradient is wrong, but check_layer_gradients reported "
                   f"{describe_errors(errors)} (large under {large(errors)})."
                   + checker_advice(errors, block, x, {"x", "0.W", "0.b", "1.W"})))


def same_errors(first, second):
    return set(first) == set(second) and all(float(first[k]) == float(second[k]) for k in first)


def explain_unrepeatable(pair):
    """Why two checks with the same seed disagree, from the numbers: only the parameters' errors moved
    (gradients left over from the first call), only the small errors moved (inputs that drifted between
    the calls), or the large ones moved too (an upstream gradient not drawn from the seed)."""
    first, second = pair
    words = f"Two calls with seed=3 gave {describe_errors(first)} and {describe_errors(second)}"
    try:
        same_x = float(first["x"]) == float(second["x"])
        large_kept = all(np.isclose(float(first[k]), float(second[k]), rtol=1e-6, atol=0)
                         for k in first if float(first[k]) > 1e-3)
    except (KeyError, TypeError, ValueError):
        same_x = large_kept = False
    if same_x:
        return (f"{words}: only the parameters' errors changed, so the second call found the first call's "
                "gradients still in p.grad (backward adds into it). Call layer.zero_grad() before the forward "
                "and backward pass.")
    if large_kept:
        return (f"{words}: only the tiny errors changed, so x or the parameters were not quite the same for the "
                "second call. numerical_gradient must put each perturbed entry back exactly (x[i] = old).")
    return (f"{words}: draw the upstream gradient from numpy.random.default_rng(seed) so that a check can be "
            "repeated.")


def test_check_layer_gradients_uses_a_random_upstream_gradient(ex, pkg, rng):
    x = rng.standard_normal((6, 5))
    layer = broken_linear(pkg, rng, "bias_ones")
    errors = checked(ex, layer, x, seed=3)
    again = checked(ex, layer, x, seed=3)
    other = checked(ex, layer, x, seed=4)
    check_that("check_layer_gradients on a Linear whose dL/db counts the rows", errors,
               lambda errors: errors["b"] > 0.1, lambda errors: checker_advice(errors, layer, x, {"x", "W"}, 3) or (
                   f"check_layer_gradients reported {describe_errors(errors)} for a Linear whose dL/db counts the "
                   "rows instead of summing dL/dY: that bias gradient is right only when dL/dY is all ones, so "
                   "the check used all ones (or another constant) as upstream gradient. Draw G with "
                   "numpy.random.default_rng(seed).standard_normal(output shape)."))
    check_that("check_layer_gradients called twice with seed=3", (errors, again),
               lambda pair: same_errors(*pair), explain_unrepeatable)
    check_that("check_layer_gradients with seed=3 and with seed=4", (errors, other),
               lambda pair: not same_errors(*pair), (
                   "seed=3 and seed=4 gave the same errors: the upstream gradient must be drawn from "
                   "numpy.random.default_rng(seed)."))


def test_check_layer_gradients_zeroes_stale_gradients_first(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    for p in layer.parameters():
        p.grad[...] = 7.0  # left over from an earlier backward pass
    first = checked(ex, layer, x)
    second = checked(ex, layer, x)  # the first call left its own gradients behind
    for label, errors in (("with stale values in W.grad and b.grad", first), ("called a second time", second)):
        check_that(f"check_layer_gradients {label}", errors, lambda e: max(e["W"], e["b"]) < 1e-6,
                   lambda errors, label=label: (
                       f"check_layer_gradients {label} reported {describe_errors(errors)} for a correct Linear: "
                       + (checker_advice(errors, layer, x, {"x"})[1:] or
                          "backward adds into p.grad, so old values were added to the new gradient. Call "
                          "layer.zero_grad() before the forward and backward pass.")))
    twice = doubled(make_linear(pkg, rng))
    for p in twice.parameters():
        p.grad[...] = 7.0
    check_close_ref("check_layer_gradients with stale gradients, when backward doubles every gradient, under "
                    "['W', 'b', 'x']", errors_of(checked(ex, twice, x), "xWb"),
                    lambda: pytorch_doubled_errors(twice, "Linear", x, "xWb"), atol=1e-7)


def changed_entries(after, before):
    after = np.asarray(after)
    return int(np.sum(after != before)) if after.shape == before.shape else "all"


def test_check_layer_gradients_leaves_the_input_and_parameters_unchanged(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    x_before = x.copy()
    w_before, b_before = layer.W.data.copy(), layer.b.data.copy()
    checked(ex, layer, x)
    for name, before, after in (("x", x_before, x), ("W.data", w_before, layer.W.data),
                                ("b.data", b_before, layer.b.data)):
        check_that(f"{name} after check_layer_gradients", after, lambda after, before=before: np.array_equal(
            after, before), lambda after, name=name, before=before: (
                f"check_layer_gradients left {name} changed ({changed_entries(after, before)} of {before.size} "
                "entries): numerical_gradient perturbs the array in place, so it must put each saved value "
                "back exactly (x[i] = old) before moving on."))


@pytest.mark.fact
def test_check_layer_gradients_refuses_float32_input(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    rule = ("with about 7 significant digits a step of 1e-6 is lost in rounding, so the check means nothing. "
            "Raise ValueError unless x is float64, as the docstring says.")

    def explain(outcome):
        if not outcome.get("raised"):
            return f"check_layer_gradients accepted float32 input and returned errors: {rule}"
        return (f"check_layer_gradients on float32 input raised {outcome['raised'][0]} "
                f"({outcome.get('message', '')}) instead of ValueError: {rule}")

    check_raises("check_layer_gradients on float32 input", ValueError,
                 lambda: ex.check_layer_gradients(layer, x), message=explain)
