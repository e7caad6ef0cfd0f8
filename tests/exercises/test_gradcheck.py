"""Exercise 4 (gradcheck): central differences, the relative error, and checking a layer's backward.

numerical_gradient is the oracle of every other exercise's tests, so here it is checked against closed
forms only (never against the reference). check_layer_gradients is checked on correct reference layers
and on deliberately broken layers defined below, each with a known bug in a known gradient.
"""

import numpy as np
import pytest

from grader.feedback.diagnose import check_close
from grader.feedback.diagnose import relative_error as closed_relative_error
from helpers import assert_unchanged

def twice(expected):
    return (2 * expected, "twice the derivative: divide the central difference by 2 eps, the distance between "
                          "x - eps and x + eps.")


FLAT_ZERO = ("zeros: f() never saw the perturbation. Perturb x itself in place (x[i] = old + eps), not a "
             "copy of it: f reads the caller's array.")


# ----------------------------------------------------------------------------------------------------
# numerical_gradient


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
                alternatives=[(np.zeros(shape), FLAT_ZERO), twice(expected)])


def test_numerical_gradient_of_a_coupled_function_of_a_matrix(ex, rng):
    # f(X) = 0.5 ||X A||^2 couples the entries of a row: df/dX = X A A^T, shape (3, 4).
    x = rng.standard_normal((3, 4))
    a = rng.standard_normal((4, 2))

    def f():
        return float(0.5 * np.sum((x @ a) ** 2))

    expected = x @ a @ a.T
    check_close("numerical_gradient of 0.5 ||X A||^2", ex.numerical_gradient(f, x), expected,
                alternatives=[(np.zeros(x.shape), FLAT_ZERO), twice(expected)])


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
        (3 * x ** 2 + 3 * x * eps + eps ** 2,
         "the forward difference (f(x + eps) - f(x)) / eps instead of central: its error is O(eps), the "
         "central difference (f(x + eps) - f(x - eps)) / (2 eps) has error O(eps^2)."),
        (3 * x ** 2 - 3 * x * eps + eps ** 2,
         "the backward difference (f(x) - f(x - eps)) / eps instead of central: its error is O(eps), the "
         "central difference (f(x + eps) - f(x - eps)) / (2 eps) has error O(eps^2)."),
        (3 * x ** 2 + 1e-12,
         "the central difference with eps=1e-6, not the eps=1e-3 passed in: use the eps argument."),
        (np.zeros(x.shape), FLAT_ZERO),
    ])


def test_numerical_gradient_uses_the_eps_it_is_given(ex, rng):
    # sin(x + e) - sin(x - e) = 2 cos(x) sin(e), so the central difference is exactly cos(x) sin(e) / e.
    eps = 0.5
    x = rng.standard_normal(6)

    def f():
        return float(np.sum(np.sin(x)))

    check_close("numerical_gradient of sum(sin x) with eps=0.5", ex.numerical_gradient(f, x, eps=eps),
                np.cos(x) * np.sin(eps) / eps, alternatives=[
                    (np.cos(x), "cos(x), the exact derivative: a difference with a tiny step instead of the "
                                "eps=0.5 passed in. Use the eps argument."),
                ])


def test_numerical_gradient_restores_x_exactly(ex, rng):
    # Magnitudes from 1e-8 to 1: for many small entries (v - eps) + eps is not exactly v.
    x = rng.standard_normal((10, 20)) * 10.0 ** rng.uniform(-8.0, 0.0, size=(10, 20))
    before = x.copy()
    seen = []

    def f():
        seen.append(int(np.sum(x != before)))
        return float(np.sum(np.tanh(x)))

    ex.numerical_gradient(f, x)
    if not np.array_equal(x, before):
        changed = x != before
        if np.allclose(x[changed], before[changed] - 1e-6, rtol=0, atol=1e-9):
            advice = ("it was left at x - eps: after the second evaluation put the saved value back "
                      "(x[i] = old).")
        elif np.allclose(x, before, rtol=1e-12, atol=0):
            advice = ("the entries differ only by rounding: x[i] += eps after x[i] = old - eps does not "
                      "give old back in floating point ((v - eps) + eps != v). Save the original value "
                      "and put the saved value back.")
        else:
            advice = "save each entry before perturbing it and put the saved value back afterwards."
        raise AssertionError(f"numerical_gradient did not restore x ({int(changed.sum())} of {x.size} "
                             f"entries changed): {advice}")
    assert seen and max(seen) == 1, (
        f"While numerical_gradient ran, f() saw up to {max(seen or [0])} perturbed entries of x at once: "
        "perturb one entry at a time and restore it before moving to the next."
    )


def test_numerical_gradient_returns_an_array_of_x_shape_without_modifying_it(ex, rng):
    x = rng.standard_normal((2, 3))

    def f():
        return float(np.sum(x))

    grad = ex.numerical_gradient(f, x)
    assert isinstance(grad, np.ndarray) and grad.shape == x.shape, (
        f"numerical_gradient returned {type(grad).__name__} with shape {getattr(grad, 'shape', None)}; "
        f"expected an array of x's shape {x.shape}."
    )
    assert grad is not x and not np.shares_memory(grad, x), (
        "numerical_gradient returned (a view of) x itself: build the gradient in a new array."
    )


# ----------------------------------------------------------------------------------------------------
# relative_error


def test_relative_error_of_two_zero_arrays_is_zero(ex):
    value = ex.relative_error(np.zeros(3), np.zeros(3))
    assert value == 0.0, (
        f"relative_error(zeros, zeros) = {value}; two equal arrays have relative error 0.0 even when both "
        "are zero (0 / 0 must not become nan: return 0.0 when the larger norm is 0)."
    )


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
    check_close("relative_error on pairs with known answers", got, expected, alternatives=[
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
    ab, ba = ex.relative_error(a, b), ex.relative_error(b, a)
    check_close("relative_error(b, a) compared with relative_error(a, b)", ba, ab, alternatives=[
        (ab * np.linalg.norm(b) / np.linalg.norm(a),
         "relative_error(a, b) times ||b|| / ||a||: it depends on the argument order, so one of the two "
         "divides by ||b|| (or ||a||) only; divide by max(||a||, ||b||)."),
    ])


@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_relative_error_does_not_depend_on_the_scale(ex, rng, scale):
    a = rng.standard_normal((3, 4))
    b = a + 0.01 * rng.standard_normal((3, 4))
    plain = ex.relative_error(a, b)
    scaled = ex.relative_error(scale * a, scale * b)
    check_close(f"relative_error(k a, k b) with k = {scale:g}", scaled, plain, rtol=1e-9, atol=0.0,
                alternatives=[(plain * scale, f"relative_error(a, b) times k = {scale:g}: without dividing by "
                               "a norm the error is absolute, not relative; divide by max(||a||, ||b||).")])


# ----------------------------------------------------------------------------------------------------
# check_layer_gradients, on correct layers and on layers with one known bug each


def make_linear(pkg, rng, n_in=5, n_out=3):
    layer = pkg.layers.Linear(n_in, n_out, rng=rng)
    layer.b.data[...] = rng.standard_normal(n_out)  # a non-zero bias, so bias bugs change the output
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

    layer = Broken(n_in, n_out, rng=rng)
    layer.b.data[...] = rng.standard_normal(n_out)
    return layer


def describe_errors(errors):
    return "{" + ", ".join(f"{name!r}: {value:.3g}" for name, value in errors.items()) + "}"


def explain_large_errors_on_a_correct_layer(errors, layer, x, seed=0):
    """A sentence for the likely mistake when a correct layer gets large errors, from the numbers."""
    values = np.array(list(errors.values()), dtype=float)
    if values.size and np.allclose(values, 0.5, atol=1e-3):
        return ("Every error is 0.5, the relative error between g and 2 g: the numerical gradients are twice "
                "the analytic ones. Divide the central difference by 2 eps.")
    # What the error on dL/dx would be if the numerical side differentiated sum(forward(x)) (no G) while
    # backward received G: for a Linear, the two gradients are ones W^T and G W^T.
    if hasattr(layer, "W") and "x" in errors:
        upstream = np.random.default_rng(seed).standard_normal((x.shape[0], layer.W.data.shape[1]))
        without = closed_relative_error(upstream @ layer.W.data.T, np.ones_like(upstream) @ layer.W.data.T)
        if abs(errors["x"] - without) < 1e-6:
            return ("The error on 'x' equals that between G W^T and ones W^T: the scalar you differentiate "
                    "numerically must be sum(layer.forward(x) * G), with the same G passed to backward.")
    return "The layer is correct, so the checker is wrong: compare its steps with the docstring."


@pytest.mark.parametrize("kind", ["Linear", "Tanh", "Sigmoid", "ReLU"])
def test_check_layer_gradients_finds_tiny_errors_for_correct_layers(ex, pkg, rng, kind):
    if kind == "Linear":
        layer = make_linear(pkg, rng)
        keys = {"x", "W", "b"}
    else:
        layer = getattr(pkg.activations, kind)()
        keys = {"x"}
    x = rng.standard_normal((4, 5))
    errors = ex.check_layer_gradients(layer, x)
    assert isinstance(errors, dict) and set(errors) == keys, (
        f"check_layer_gradients({kind}) returned {errors!r}; expected a dict with the keys {sorted(keys)}: "
        "'x' for the input and the names from layer.named_parameters()."
    )
    worst = max(errors, key=errors.get)
    assert errors[worst] < 1e-6, (
        f"check_layer_gradients reported {describe_errors(errors)} for the reference {kind}, whose backward "
        f"is correct (central differences agree to about 1e-8). "
        + explain_large_errors_on_a_correct_layer(errors, layer, x)
    )


def test_check_layer_gradients_names_the_wrong_gradient_of_a_broken_bias(ex, pkg, rng):
    layer = broken_linear(pkg, rng, "bias_mean")
    errors = ex.check_layer_gradients(layer, rng.standard_normal((8, 5)))
    assert set(errors) == {"x", "W", "b"}, f"expected the keys ['W', 'b', 'x'], got {sorted(errors)}."
    assert errors["b"] > 0.1 and errors["x"] < 1e-6 and errors["W"] < 1e-6, (
        f"For a Linear whose dL/db is averaged instead of summed (only b.grad is wrong, by the factor 1/8) "
        f"check_layer_gradients reported {describe_errors(errors)}; expected a large error under 'b' only. "
        "Compare each p.grad with the numerical gradient of p.data, under p's own name."
    )


def test_check_layer_gradients_names_the_wrong_input_gradient(ex, pkg, rng):
    layer = broken_linear(pkg, rng, "input_no_t", n_in=4, n_out=4)
    errors = ex.check_layer_gradients(layer, rng.standard_normal((6, 4)))
    assert errors["x"] > 0.1 and errors["W"] < 1e-6 and errors["b"] < 1e-6, (
        f"For a Linear whose returned dL/dx is G W instead of G W^T (the parameter gradients are right) "
        f"check_layer_gradients reported {describe_errors(errors)}; expected a large error under 'x' only. "
        "The 'x' entry compares the array backward returns with the numerical gradient of x."
    )


def test_check_layer_gradients_names_parameters_of_sublayers(ex, pkg, rng):
    class Block(pkg.layers.Layer):
        def __init__(self):
            super().__init__()
            self.layers = [make_linear(pkg, rng, 5, 4), broken_linear(pkg, rng, "bias_mean", 4, 3)]

        def forward(self, x):
            return self.layers[1].forward(self.layers[0].forward(x))

        def backward(self, grad_out):
            return self.layers[0].backward(self.layers[1].backward(grad_out))

    errors = ex.check_layer_gradients(Block(), rng.standard_normal((8, 5)))
    assert set(errors) == {"x", "0.W", "0.b", "1.W", "1.b"}, (
        f"check_layer_gradients returned the keys {sorted(errors)} for a block of two Linear layers; expected "
        "['0.W', '0.b', '1.W', '1.b', 'x']: use the names of layer.named_parameters()."
    )
    large = sorted(name for name, value in errors.items() if value > 1e-6)
    assert large == ["1.b"], (
        f"Only the second layer's bias gradient is wrong, but check_layer_gradients reported "
        f"{describe_errors(errors)} (large under {large})."
    )


def test_check_layer_gradients_uses_a_random_upstream_gradient(ex, pkg, rng):
    x = rng.standard_normal((6, 5))
    layer = broken_linear(pkg, rng, "bias_ones")
    errors = ex.check_layer_gradients(layer, x, seed=3)
    assert errors["b"] > 0.1, (
        f"check_layer_gradients reported {describe_errors(errors)} for a Linear whose dL/db counts the rows "
        "instead of summing dL/dY: that bias gradient is right only when dL/dY is all ones, so the check "
        "used all ones (or another constant) as upstream gradient. Draw G with "
        "numpy.random.default_rng(seed).standard_normal(output shape)."
    )
    again = ex.check_layer_gradients(layer, x, seed=3)
    other = ex.check_layer_gradients(layer, x, seed=4)
    assert again == errors, (
        f"Two calls with seed=3 gave {describe_errors(errors)} and {describe_errors(again)}: draw the upstream "
        "gradient from numpy.random.default_rng(seed) so that a check can be repeated."
    )
    assert other != errors, (
        "seed=3 and seed=4 gave the same errors: the upstream gradient must be drawn from "
        "numpy.random.default_rng(seed)."
    )


def test_check_layer_gradients_zeroes_stale_gradients_first(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    for p in layer.parameters():
        p.grad[...] = 7.0  # left over from an earlier backward pass
    first = ex.check_layer_gradients(layer, x)
    second = ex.check_layer_gradients(layer, x)  # the first call left its own gradients behind
    for label, errors in (("with stale values in W.grad and b.grad", first), ("called a second time", second)):
        assert max(errors["W"], errors["b"]) < 1e-6, (
            f"check_layer_gradients {label} reported {describe_errors(errors)} for a correct Linear: backward "
            "adds into p.grad, so old values were added to the new gradient. Call layer.zero_grad() before "
            "the forward and backward pass."
        )


def test_check_layer_gradients_leaves_the_input_and_parameters_unchanged(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    x_before = x.copy()
    w_before, b_before = layer.W.data.copy(), layer.b.data.copy()
    ex.check_layer_gradients(layer, x)
    assert_unchanged("check_layer_gradients (on x)", x_before, x)
    assert_unchanged("check_layer_gradients (on W.data)", w_before, layer.W.data)
    assert_unchanged("check_layer_gradients (on b.data)", b_before, layer.b.data)


def test_check_layer_gradients_refuses_float32_input(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    try:
        result = ex.check_layer_gradients(layer, x)
    except ValueError:
        return
    raise AssertionError(
        f"check_layer_gradients accepted float32 input (and returned {result!r}): with about 7 significant "
        "digits a step of 1e-6 is lost in rounding, so the check means nothing. Raise ValueError unless x is "
        "float64."
    )
