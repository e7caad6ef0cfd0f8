"""Exercise 4 (gradcheck): central differences, the relative error, and checking a layer's backward.

numerical_gradient is the oracle of every other exercise's tests, so here it is checked against closed
forms only (never against the reference). check_layer_gradients is checked on correct reference layers
and on deliberately broken layers defined below, each with a known bug in a known gradient.

The learner's functions receive callables and layers from the test: the whole test body runs in the
learner's half, and only the expected values, the known-wrong alternatives and the verdicts are the
judge's (computed again on the same inputs, from the same seed).
"""

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_raises, check_that
from grader.feedback.diagnose import relative_error as closed_relative_error
from helpers import own_rng


def twice(expected):
    return (2 * expected, "twice the derivative: divide the central difference by 2 eps, the distance between "
                          "x - eps and x + eps.")


FLAT_ZERO = ("zeros: f() never saw the perturbation. Perturb x itself in place (x[i] = old + eps), not a "
             "copy of it: f reads the caller's array.")

FORWARD = ("the forward difference (f(x + eps) - f(x)) / eps instead of central: its error is O(eps), the "
           "central difference (f(x + eps) - f(x - eps)) / (2 eps) has error O(eps^2).")
BACKWARD = ("the backward difference (f(x) - f(x - eps)) / eps instead of central: its error is O(eps), the "
            "central difference (f(x + eps) - f(x - eps)) / (2 eps) has error O(eps^2).")



# ----------------------------------------------------------------------------------------------------
# numerical_gradient


def one_sided(f, x, step):
    """(f(x + step e_i) - f(x)) / step for every entry i: the forward difference for step = eps, the
    backward one for step = -eps. Perturbs x in place and restores it, like numerical_gradient."""
    grad = np.zeros(x.shape)
    base = f()
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + step
        grad[index] = (f() - base) / step
        x[index] = old
    return grad


def one_sided_alternatives(f, x, eps=1e-6):
    """The forward and backward differences of f at x, as known-wrong alternatives (for the judge)."""
    return [(one_sided(f, x, eps), FORWARD), (one_sided(f, x, -eps), BACKWARD)]


def separable(rng, shape):
    """f(x) = sum(c x^2 + sin(d x)) with different c, d per entry, and its gradient 2 c x + d cos(d x).

    Different coefficients per entry reveal a gradient written to the wrong index.
    """
    c = rng.uniform(0.5, 2.0, size=shape)
    d = rng.uniform(0.5, 2.0, size=shape)
    x = rng.standard_normal(shape)

    def f():
        return float(np.sum(c * x ** 2 + np.sin(d * x)))

    return f, x, 2 * c * x + d * np.cos(d * x)


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 4), (2, 3, 4)], ids=["1", "7", "3x4", "2x3x4"])
def test_numerical_gradient_matches_the_closed_form_for_every_shape(ex, rng, shape):
    f, x, expected = separable(rng, shape)
    grad = ex.numerical_gradient(f, x)
    check_close(f"numerical_gradient of sum(c x^2 + sin(d x)) for x of shape {shape}", grad, expected,
                alternatives=lambda: [(np.zeros(shape), FLAT_ZERO), twice(expected)] + one_sided_alternatives(f, x))


def test_numerical_gradient_of_a_coupled_function_of_a_matrix(ex, rng):
    # f(X) = 0.5 ||X A||^2 couples the entries of a row: df/dX = X A A^T, shape (3, 4).
    x = rng.standard_normal((3, 4))
    a = rng.standard_normal((4, 2))

    def f():
        return float(0.5 * np.sum((x @ a) ** 2))

    expected = x @ a @ a.T
    check_close("numerical_gradient of 0.5 ||X A||^2", ex.numerical_gradient(f, x), expected,
                alternatives=lambda: [(np.zeros(x.shape), FLAT_ZERO), twice(expected)] + one_sided_alternatives(f, x))


def test_numerical_gradient_is_a_central_difference(ex, rng):
    # For f = sum(x^3) the difference quotients have exact closed forms:
    #   central  ((x+e)^3 - (x-e)^3) / 2e = 3x^2 + e^2
    #   forward  ((x+e)^3 - x^3) / e      = 3x^2 + 3 x e + e^2      (error O(e): f'' = 6x is large)
    # With e = 1e-3 the forward difference is off by about 3e-3, far above the tolerance.
    eps = 1e-3
    x = rng.uniform(-2.0, 2.0, size=(4, 5))

    def f():
        return float(np.sum(x ** 3))

    grad = ex.numerical_gradient(f, x, eps=eps)
    check_close("numerical_gradient of sum(x^3) with eps=1e-3", grad, 3 * x ** 2 + eps ** 2, alternatives=[
        (3 * x ** 2 + 3 * x * eps + eps ** 2, FORWARD),
        (3 * x ** 2 - 3 * x * eps + eps ** 2, BACKWARD),
        (3 * x ** 2 + 1e-12,
         "the central difference with eps=1e-6, not the eps=1e-3 passed in: use the eps argument."),
        (np.zeros(x.shape), FLAT_ZERO),
        twice(3 * x ** 2 + eps ** 2),
    ])


def test_numerical_gradient_uses_the_eps_it_is_given(ex, rng):
    # sin(x + e) - sin(x - e) = 2 cos(x) sin(e), so the central difference is exactly cos(x) sin(e) / e.
    eps = 0.5
    x = rng.standard_normal(6)

    def f():
        return float(np.sum(np.sin(x)))

    check_close("numerical_gradient of sum(sin x) with eps=0.5", ex.numerical_gradient(f, x, eps=eps),
                np.cos(x) * np.sin(eps) / eps, alternatives=lambda: [
                    (np.cos(x), "cos(x), the exact derivative: a difference with a tiny step instead of the "
                                "eps=0.5 passed in. Use the eps argument."),
                    twice(np.cos(x) * np.sin(eps) / eps),
                ] + one_sided_alternatives(f, x, eps))


def explain_not_restored(before):
    """The failure message for an x that numerical_gradient left changed, from the numbers."""
    def explain(after):
        after = np.asarray(after, dtype=np.float64)
        if after.shape != before.shape:
            return f"numerical_gradient changed the shape of x from {before.shape} to {after.shape}."
        changed = after != before
        if np.allclose(after[changed], before[changed] - 1e-6, rtol=0, atol=1e-9):
            advice = ("it was left at x - eps: after the second evaluation put the saved value back "
                      "(x[i] = old).")
        elif np.all(np.abs(after - before) <= 4 * np.spacing(np.abs(before) + 1e-6)):  # a few ulp of v +- eps
            advice = ("the entries differ only by rounding: x[i] += eps after x[i] = old - eps does not "
                      "give old back in floating point ((v - eps) + eps != v). Save the original value "
                      "and put the saved value back.")
        else:
            advice = "save each entry before perturbing it and put the saved value back afterwards."
        return (f"numerical_gradient did not restore x ({int(changed.sum())} of {before.size} entries changed): "
                f"{advice}")
    return explain


def test_numerical_gradient_restores_x_exactly(ex, rng):
    # Magnitudes from 1e-8 to 1: for many small entries (v - eps) + eps is not exactly v.
    x = rng.standard_normal((10, 20)) * 10.0 ** rng.uniform(-8.0, 0.0, size=(10, 20))
    before = x.copy()
    seen = []

    def f():
        seen.append(int(np.sum(x != before)))
        return float(np.sum(np.tanh(x)))

    ex.numerical_gradient(f, x)
    check_that("x after numerical_gradient", x, lambda after: np.array_equal(after, before),
               explain_not_restored(before))
    check_that("the number of entries of x perturbed at once while f() ran", max(seen or [0]),
               lambda most: most == 1, lambda most: (
                   f"While numerical_gradient ran, f() saw up to {most} perturbed entries of x at once: "
                   "perturb one entry at a time and restore it before moving to the next."))


def test_numerical_gradient_returns_an_array_of_x_shape_without_modifying_it(ex, rng):
    x = rng.standard_normal((2, 3))

    def f():
        return float(np.sum(x))

    grad = ex.numerical_gradient(f, x)
    check_that("numerical_gradient's result", grad,
               lambda g: isinstance(g, np.ndarray) and g.shape == x.shape, lambda g: (
                   f"numerical_gradient returned {type(g).__name__} with shape {getattr(g, 'shape', None)}; "
                   f"expected an array of x's shape {x.shape}."))
    aliased = isinstance(grad, np.ndarray) and (grad is x or np.shares_memory(grad, x))
    check_equal("numerical_gradient returns (a view of) x itself", aliased, False,
                "numerical_gradient returned (a view of) x itself: build the gradient in a new array.")


# ----------------------------------------------------------------------------------------------------
# relative_error


def test_relative_error_of_two_zero_arrays_is_zero(ex):
    value = ex.relative_error(np.zeros(3), np.zeros(3))
    check_that("relative_error(zeros, zeros)", value, lambda v: v == 0.0, lambda v: (
        f"relative_error(zeros, zeros) = {v}; two equal arrays have relative error 0.0 even when both "
        "are zero (0 / 0 must not become nan: return 0.0 when the larger norm is 0)."))


def test_relative_error_matches_closed_forms(ex):
    # ||a - b|| / max(||a||, ||b||) with Euclidean norms over all entries.
    pairs = [
        ([1.0, 2.0, 2.0], [2.0, 4.0, 4.0], 3.0 / 6.0),
        ([3.0, 0.0], [0.0, 4.0], 5.0 / 4.0),
        ([4.0, 0.0], [0.0, 3.0], 5.0 / 4.0),
        ([[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]], np.sqrt(2.0)),
        ([1e-9, 1e-9, 1e-9, 1e-9], [2e-9, 2e-9, 2e-9, 2e-9], 0.5),
    ]
    got = np.array([ex.relative_error(np.array(a), np.array(b)) for a, b, _ in pairs], dtype=float)
    expected = np.array([value for _, _, value in pairs])

    def each(formula):
        return np.array([formula(np.array(a), np.array(b)) for a, b, _ in pairs])

    norm = np.linalg.norm
    check_close("relative_error on pairs with known answers", got, expected, alternatives=lambda: [
        (each(lambda a, b: norm(a - b) / norm(b)),
         "||a - b|| / ||b||: dividing by the norm of b only makes the error depend on the argument order; "
         "divide by max(||a||, ||b||)."),
        (each(lambda a, b: norm(a - b) / norm(a)),
         "||a - b|| / ||a||: dividing by the norm of a only makes the error depend on the argument order; "
         "divide by max(||a||, ||b||)."),
        (each(lambda a, b: norm(a - b) / (norm(a) + norm(b))),
         "||a - b|| / (||a|| + ||b||): the denominator is max(||a||, ||b||), not the sum."),
        (each(lambda a, b: norm(a - b)),
         "||a - b||, the absolute error: divide by max(||a||, ||b||) to make it scale-free."),
        (each(lambda a, b: np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)))),
         "the largest entry-wise difference over the largest entry: use Euclidean norms over all entries."),
        (each(lambda a, b: norm(a - b, 2) / max(norm(a, 2), norm(b, 2)) if a.ndim == 2
              else norm(a - b) / max(norm(a), norm(b))),
         "the matrix 2-norm for 2-D arrays: use the Euclidean norm over all entries (flatten, or "
         "np.linalg.norm without ord)."),
    ])


def test_relative_error_is_symmetric(ex, rng):
    a = rng.standard_normal(10)
    b = 3.0 * rng.standard_normal(10)
    norm = np.linalg.norm
    closed = norm(a - b) / max(norm(a), norm(b))
    one_norm_only = [
        (norm(a - b) / norm(a), "||a - b|| / ||a||: it depends on the argument order, so it divides by the "
                                "norm of one argument (here ||a||) only; divide by max(||a||, ||b||)."),
        (norm(a - b) / norm(b), "||a - b|| / ||b||: it depends on the argument order, so it divides by the "
                                "norm of one argument (here ||b||) only; divide by max(||a||, ||b||)."),
    ]
    ab, ba = ex.relative_error(a, b), ex.relative_error(b, a)
    check_close("relative_error(a, b)", ab, closed, alternatives=one_norm_only)
    check_close("relative_error(b, a)", ba, closed,
                alternatives=one_norm_only)


@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_relative_error_does_not_depend_on_the_scale(ex, rng, scale):
    a = rng.standard_normal((3, 4))
    b = a + 0.01 * rng.standard_normal((3, 4))
    norm = np.linalg.norm
    closed = norm(a - b) / max(norm(a), norm(b))
    scaled = ex.relative_error(scale * a, scale * b)
    check_close(f"relative_error(k a, k b) with k = {scale:g}", scaled, closed, rtol=1e-9, atol=0.0,
                alternatives=[(scale * norm(a - b), f"||k a - k b|| = k ||a - b|| with k = {scale:g}: without "
                               "dividing by a norm the error is absolute, not relative; divide by "
                               "max(||a||, ||b||).")])


# ----------------------------------------------------------------------------------------------------
# check_layer_gradients, on correct layers and on layers with one known bug each


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
    """

    class Broken(pkg.layers.Linear):
        def backward(self, grad_out):
            self.W.grad += self._x.T @ grad_out
            if bug == "bias_mean":
                self.b.grad += grad_out.mean(axis=0)
            elif bug == "bias_ones":
                self.b.grad += np.ones_like(grad_out).sum(axis=0)
            else:
                self.b.grad += grad_out.sum(axis=0)
            if bug == "input_no_t":
                return grad_out @ self.W.data
            return grad_out @ self.W.data.T

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
        return ("Every error is 0.5, the relative error between g and 2 g: the numerical gradients are twice "
                "the analytic ones. Divide the central difference by 2 eps.")
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
    errors = ex.check_layer_gradients(layer, x)
    check_that(f"the keys of check_layer_gradients({kind})", errors, has_keys(keys), lambda errors: (
        f"check_layer_gradients({kind}) returned {errors!r}; expected a dict with the keys {sorted(keys)}: "
        "'x' for the input and the names from layer.named_parameters()."))
    check_that(f"check_layer_gradients({kind}) on a correct layer", errors,
               lambda errors: max(float(value) for value in errors.values()) < 1e-6, lambda errors: (
                   f"check_layer_gradients reported {describe_errors(errors)} for the reference {kind}, whose "
                   "backward is correct (central differences agree to about 1e-8). "
                   + explain_large_errors_on_a_correct_layer(errors, layer, x)))


def test_check_layer_gradients_names_the_wrong_gradient_of_a_broken_bias(ex, pkg, rng):
    layer = broken_linear(pkg, rng, "bias_mean")
    x = rng.standard_normal((8, 5))
    errors = ex.check_layer_gradients(layer, x)
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
    errors = ex.check_layer_gradients(layer, x)
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
    errors = ex.check_layer_gradients(block, x)
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
    errors = ex.check_layer_gradients(layer, x, seed=3)
    again = ex.check_layer_gradients(layer, x, seed=3)
    other = ex.check_layer_gradients(layer, x, seed=4)
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
    first = ex.check_layer_gradients(layer, x)
    second = ex.check_layer_gradients(layer, x)  # the first call left its own gradients behind
    for label, errors in (("with stale values in W.grad and b.grad", first), ("called a second time", second)):
        check_that(f"check_layer_gradients {label}", errors, lambda e: max(e["W"], e["b"]) < 1e-6,
                   lambda errors, label=label: (
                       f"check_layer_gradients {label} reported {describe_errors(errors)} for a correct Linear: "
                       + (checker_advice(errors, layer, x, {"x"})[1:] or
                          "backward adds into p.grad, so old values were added to the new gradient. Call "
                          "layer.zero_grad() before the forward and backward pass.")))


def changed_entries(after, before):
    after = np.asarray(after)
    return int(np.sum(after != before)) if after.shape == before.shape else "all"


def test_check_layer_gradients_leaves_the_input_and_parameters_unchanged(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    x_before = x.copy()
    w_before, b_before = layer.W.data.copy(), layer.b.data.copy()
    ex.check_layer_gradients(layer, x)
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
