"""Exercise 4 (gradcheck): central differences and the relative error; check_layer_gradients is tested
in test_gradcheck_layers.py.

numerical_gradient is the oracle of every other exercise's tests. The judge compares the learner's values
with the reference's on the same inputs; `make test` checks the reference against PyTorch (autograd, and
central differences evaluated by PyTorch), never a closed form written here, which the learner's half could
evaluate too (grader/feedback/oracle.py).
check_layer_gradients is checked on correct reference layers and on deliberately broken layers
(test_gradcheck_layers.py), each with a known bug in a known gradient.

The learner's functions receive callables and layers from the test: the whole test body runs in the
learner's half, and only the expected values, the known-wrong alternatives and the verdicts are the
judge's (computed again on the same inputs, from the same seed).
"""

import numpy as np
import pytest

from grader.feedback.checks import check_equal, check_that
from grader.feedback.oracle import check_close_ref, torch


# PyTorch's values (judge only; the closed forms written out here could be evaluated by the learner's half).

def autograd(f, *arrays):
    """PyTorch's gradient of the scalar f(*tensors) with respect to the first array (float64)."""
    tensors = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=(i == 0)) for i, a in enumerate(arrays)]
    return torch.autograd.grad(f(*tensors), tensors[0])[0].numpy()


def central_differences(f, x, eps):
    """(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every entry i, by PyTorch: f maps a batch of
    perturbed copies of x, shape (k,) + x.shape, to their k values."""
    t = torch.tensor(np.asarray(x, dtype=np.float64))
    steps = eps * torch.eye(t.numel(), dtype=torch.float64).reshape((t.numel(),) + tuple(t.shape))
    return ((f(t + steps) - f(t - steps)) / (2 * eps)).reshape(t.shape).numpy()


def torch_relative_error(a, b):
    """||a - b|| / max(||a||, ||b||) by PyTorch, 0 when both are zero."""
    a, b = (torch.tensor(np.asarray(v, dtype=np.float64)) for v in (a, b))
    larger = torch.maximum(torch.linalg.norm(a.reshape(-1)), torch.linalg.norm(b.reshape(-1)))
    return 0.0 if larger.item() == 0 else (torch.linalg.norm((a - b).reshape(-1)) / larger).item()


def twice(expected):
    return (2 * expected, "twice the derivative: divide the central difference by 2 eps, the distance between "
                          "x - eps and x + eps."), (expected / 2, "half the derivative: half steps (x - eps/2 and x + "
                                                "eps/2) over 2 eps, or a division by 4 eps; step by eps each way.")


STEP = {"eps": 1e-6, "eps^2": 1e-12, "2 eps": 2e-6}  # the default step, as a factor that a slip leaves in or out
FLAT_ZERO = ("zeros: f() never saw the perturbation (perturb x itself in place, x[i] = old + eps, not a copy of "
             "it: f reads the caller's array), or the loop never ran (a range off by one, range(x.size - 1), is "
             "empty for a single entry).")

FORWARD = ("the forward difference (f(x + eps) - f(x)) / eps instead of central: its error is O(eps), the "
           "central difference (f(x + eps) - f(x - eps)) / (2 eps) has error O(eps^2).")
BACKWARD = ("the backward difference (f(x) - f(x - eps)) / eps instead of central: its error is O(eps), the "
            "central difference (f(x + eps) - f(x - eps)) / (2 eps) has error O(eps^2).")


# ----------------------------------------------------------------------------------------------------
# numerical_gradient


def one_sided(f, x, step):
    """(f(x + step e_i) - f(x)) / step for every entry i: the forward difference for step = eps, the
    backward one for step = -eps. Perturbs x in place and restores it, like numerical_gradient."""
    flat = x.reshape(-1)  # a view (x is contiguous): writing it perturbs x, which f reads
    grad = np.zeros(flat.size)
    base = f()
    for i in range(flat.size):
        kept = flat[i]
        flat[i] = kept + step
        grad[i] = (f() - base) / step
        flat[i] = kept
    return grad.reshape(x.shape)


def stencil(f, x, combine, eps, relative=False):
    """combine(f(x + eps e_i), f(x - eps e_i), eps) for every entry i (steps of x_i eps when `relative`); x is
    perturbed in place and restored, like numerical_gradient."""
    flat, grad = x.reshape(-1), np.zeros(x.size)
    for i in range(flat.size):
        kept, values = flat[i], []
        for sign in (1, -1):
            flat[i] = kept * (1 + sign * eps) if relative else kept + sign * eps
            values.append(f())
        flat[i] = kept
        grad[i] = combine(*values, eps)
    return grad.reshape(x.shape)


def one_sided_alternatives(f, x, eps=1e-6):
    """The slips of the difference quotient of f at x, as known-wrong alternatives (for the judge): the forward
    and backward differences, the parentheses left out, a step relative to x."""
    return [(one_sided(f, x, eps), FORWARD), (one_sided(f, x, -eps), BACKWARD),
            (stencil(f, x, lambda plus, minus, h: plus - minus / (2 * h), eps), "f(x + eps) - f(x - eps) / (2 eps): "
             "parentheses missing (precedence): the division applies to the difference, (f+ - f-) / (2 eps)."),
            (stencil(f, x, lambda plus, minus, h: (plus - minus) / 2 * h, eps), "(f(x + eps) - f(x - eps)) / 2 * eps: "
             "parentheses missing (precedence), a division by 2 then a product with eps: divide by (2 * eps)."),
            (stencil(f, x, lambda plus, minus, h: (plus - minus) / (2 * h), eps, relative=True), "steps of x eps "
             "(x (1 + eps), x (1 - eps)), proportional to x, over 2 eps: the step is eps itself, x + eps and x - eps.")]


def separable(rng, shape):
    """f(x) = sum(c x^2 + sin(d x)) with different c, d per entry: (f, x, c, d).

    Different coefficients per entry reveal a gradient written to the wrong index.
    """
    c = rng.uniform(0.5, 2.0, size=shape)
    d = rng.uniform(0.5, 2.0, size=shape)
    x = rng.standard_normal(shape)

    def f():
        return float(np.sum(c * x ** 2 + np.sin(d * x)))

    return f, x, c, d


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 4), (2, 3, 4)], ids=["1", "7", "3x4", "2x3x4"])
def test_numerical_gradient_matches_the_closed_form_for_every_shape(ex, rng, shape):
    f, x, c, d = separable(rng, shape)
    grad = ex.numerical_gradient(f, x)
    expected = lambda: autograd(lambda x, c, d: torch.sum(c * x ** 2 + torch.sin(d * x)), x, c, d)  # noqa: E731
    check_close_ref(f"numerical_gradient of sum(c x^2 + sin(d x)) for x of shape {shape}", grad, expected,
                    atol=1e-7, factors=STEP,
                    alternatives=lambda: [(np.zeros(shape), FLAT_ZERO), *twice(expected()),
                                          *one_sided_alternatives(f, x)])


def test_numerical_gradient_of_a_coupled_function_of_a_matrix(ex, rng):
    # f(X) = 0.5 ||X A||^2 couples the entries of a row: df/dX = X A A^T, shape (3, 4).
    x = rng.standard_normal((3, 4))
    a = rng.standard_normal((4, 2))

    def f():
        return float(0.5 * np.sum((x @ a) ** 2))

    expected = lambda: autograd(lambda x, a: 0.5 * torch.sum((x @ a) ** 2), x, a)  # noqa: E731
    check_close_ref("numerical_gradient of 0.5 ||X A||^2", ex.numerical_gradient(f, x), expected, atol=1e-7, factors=STEP,
                    alternatives=lambda: [(np.zeros(x.shape), FLAT_ZERO), *twice(expected()),
                                          *one_sided_alternatives(f, x)])


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
    check_close_ref("numerical_gradient of sum(x^3) with eps=1e-3", grad,
                    lambda: central_differences(lambda xs: torch.sum(xs ** 3, dim=(1, 2)), x, eps), atol=1e-7,
                    alternatives=[
        (3 * x ** 2 + 3 * x * eps + eps ** 2, FORWARD),
        (3 * x ** 2 - 3 * x * eps + eps ** 2, BACKWARD),
        (3 * x ** 2 + 1e-12,
         "the central difference with eps=1e-6, not the eps=1e-3 passed in: use the eps argument."),
        (np.zeros(x.shape), FLAT_ZERO),
        *twice(3 * x ** 2 + eps ** 2),
    ])


def test_numerical_gradient_uses_the_eps_it_is_given(ex, rng):
    # sin(x + e) - sin(x - e) = 2 cos(x) sin(e), so the central difference is exactly cos(x) sin(e) / e.
    eps = 0.5
    x = rng.standard_normal(6)

    def f():
        return float(np.sum(np.sin(x)))

    check_close_ref("numerical_gradient of sum(sin x) with eps=0.5", ex.numerical_gradient(f, x, eps=eps),
                    lambda: central_differences(lambda xs: torch.sum(torch.sin(xs), dim=1), x, eps), atol=1e-7,
                    alternatives=lambda: [
                    (np.cos(x), "cos(x), the exact derivative: a difference with a tiny step instead of the "
                                "eps=0.5 passed in. Use the eps argument."),
                    *twice(np.cos(x) * np.sin(eps) / eps),
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
    check_close_ref("numerical_gradient of sum(x)", grad, lambda: autograd(torch.sum, x), atol=1e-7, factors=STEP)
    aliased = isinstance(grad, np.ndarray) and (grad is x or np.shares_memory(grad, x))
    check_equal("numerical_gradient returns (a view of) x itself", aliased, False,
                "numerical_gradient returned (a view of) x itself: build the gradient in a new array.")


# ----------------------------------------------------------------------------------------------------
# relative_error


def test_relative_error_of_two_zero_arrays_is_zero(ex, rng):
    value = ex.relative_error(np.zeros(3), np.zeros(3))
    check_that("relative_error(zeros, zeros)", value, lambda v: v == 0.0, lambda v: (
        f"relative_error(zeros, zeros) = {v}; two zero arrays, like any two equal arrays, have relative error 0.0 "
        "(0 / 0 must not become nan: return 0.0 when the larger norm is 0)."))
    b = rng.standard_normal(3)
    check_close_ref("relative_error(zeros, b) for a random b", ex.relative_error(np.zeros(3), b),
                    lambda: torch_relative_error(np.zeros(3), b), atol=1e-7,
                    alternatives=[(0.0, "0, as for two zero arrays, though b is not zero: the error is 0 only when "
                                   "both norms are 0 (test the larger one, not one of the two); here it is ||b|| / "
                                   "||b||.")] + [(slip(np.zeros(3), b), text) for slip, text in SLIPS])


SLIPS = [(lambda a, b: abs(np.linalg.norm(a) - np.linalg.norm(b)) / max(np.linalg.norm(a), np.linalg.norm(b)),
          "the difference of the norms | ||a|| - ||b|| |, not the norm of the difference ||a - b||: it sees sizes "
          "only, so two arrays of the same norm in different directions would agree."),
         (lambda a, b: np.linalg.norm(a - b) / np.linalg.norm(a + b), "||a - b|| / ||a + b||: divided by the norm of "
          "the sum, not by the larger norm max(||a||, ||b||)."),
         (lambda a, b: 2 * np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)), "divided by the mean of "
          "the norms (||a|| + ||b||) / 2, not by the larger norm max(||a||, ||b||)."),
         (lambda a, b: np.sum((a - b) ** 2) / max(np.sum(a ** 2), np.sum(b ** 2)), "squared norms (sums of squares): "
          "the square root of each sum was left out."),
         (lambda a, b: np.linalg.norm(a - b) / max(np.sum(a ** 2), np.sum(b ** 2)), "divided by the larger sum of "
          "squares: the square root of the denominator was left out, max(||a||, ||b||).")]


def test_relative_error_matches_closed_forms(ex):
    # ||a - b|| / max(||a||, ||b||) with Euclidean norms over all entries (PyTorch's, in the judge).
    pairs = [
        ([1.0, 2.0, 2.0], [2.0, 4.0, 4.0]),
        ([3.0, 0.0], [0.0, 4.0]),
        ([4.0, 0.0], [0.0, 3.0]),
        ([[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]]),
        ([1e-9, 1e-9, 1e-9, 1e-9], [2e-9, 2e-9, 2e-9, 2e-9]),
    ]
    got = np.array([ex.relative_error(np.array(a), np.array(b)) for a, b in pairs], dtype=float)

    def each(formula):
        return np.array([formula(np.array(a), np.array(b)) for a, b in pairs])

    norm = np.linalg.norm
    check_close_ref("relative_error on pairs of small arrays", got, lambda: each(torch_relative_error), atol=1e-7,
                    alternatives=lambda: [
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
    ] + [(each(slip), text) for slip, text in SLIPS])


def test_relative_error_is_symmetric(ex, rng):
    a = rng.standard_normal(10)
    b = 3.0 * rng.standard_normal(10)
    norm = np.linalg.norm
    closed = lambda: torch_relative_error(a, b)  # noqa: E731
    one_norm_only = [
        (norm(a - b) / norm(a), "||a - b|| / ||a||: it depends on the argument order, so it divides by the "
                                "norm of one argument (here ||a||) only; divide by max(||a||, ||b||)."),
        (norm(a - b) / norm(b), "||a - b|| / ||b||: it depends on the argument order, so it divides by the "
                                "norm of one argument (here ||b||) only; divide by max(||a||, ||b||)."),
    ] + [(slip(a, b), text) for slip, text in SLIPS]
    ab, ba = ex.relative_error(a, b), ex.relative_error(b, a)
    check_close_ref("relative_error(a, b)", ab, closed, atol=1e-7, alternatives=one_norm_only)
    check_close_ref("relative_error(b, a)", ba, closed, atol=1e-7, alternatives=one_norm_only)


@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_relative_error_does_not_depend_on_the_scale(ex, rng, scale):
    a = rng.standard_normal((3, 4))
    b = a + 0.01 * rng.standard_normal((3, 4))
    norm = np.linalg.norm
    scaled = ex.relative_error(scale * a, scale * b)
    check_close_ref(f"relative_error(k a, k b) with k = {scale:g}", scaled, lambda: torch_relative_error(a, b),
                    rtol=1e-9, atol=0.0,
                alternatives=[(scale * norm(a - b), f"||k a - k b|| = k ||a - b|| with k = {scale:g}: without "
                               "dividing by a norm the error is absolute, not relative; divide by "
                               "max(||a||, ||b||).")] + [(slip(scale * a, scale * b), text) for slip, text in SLIPS])


def test_numerical_gradient_keeps_float64_precision(ex, rng):
    # f(x) = sum(c x) is linear, so the central difference has no truncation error: only float64 rounding,
    # about 1e-10 relative here. A gradient kept in float32 loses everything past 7 digits (about 6e-8).
    c = 1.0 + rng.uniform(1e-7, 1e-6, size=5)
    x = 0.1 * rng.standard_normal(5)

    def f():
        return float(np.sum(c * x))

    check_close_ref("numerical_gradient of sum(c x), c = 1 + about 1e-7 (to 1e-8 relative)",
                    ex.numerical_gradient(f, x), lambda: autograd(lambda x, c: torch.sum(c * x), x, c), rtol=1e-8,
                    atol=0.0)
