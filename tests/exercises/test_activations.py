"""Exercise 2 (activations): ReLU, Sigmoid and Tanh.

Expected values come from the reference and from finite differences, computed by the judge at test time;
`make test` checks the reference's against PyTorch in float64 (grader/feedback/oracle.py), never against a
closed form written here, which the learner's process could evaluate too.
"""

import warnings

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_that, check_unchanged
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import check_layer_backward, random_upstream, shape_errors_explained

NAMES = ["ReLU", "Sigmoid", "Tanh"]
TORCH = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}  # functions of torch, looked up in the judge


def away_from_zero(rng, shape):
    """Random inputs at least 0.1 away from ReLU's kink, where finite differences are meaningful."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.1, x + np.sign(x + 1e-12) * 0.2, x)


def with_exact_zeros(rng, shape):
    """Random inputs in which every third entry is exactly 0.0."""
    x = rng.standard_normal(shape)
    x.reshape(-1)[::3] = 0.0
    return x


def extremes(dtype):
    """The largest finite inputs there are, and values where the textbook exp(-x) overflows."""
    info = np.finfo(dtype)
    values = [info.max, info.min, 1000.0, -1000.0, 710.0, -710.0, 89.0, -89.0, 100.0, -100.0,
              30.0, -30.0, info.tiny, -info.tiny, 0.0, -0.0, 1.0, -1.0]
    return np.array(values, dtype=dtype)


def torch_forward(name, x):
    """PyTorch's value in float64 (judge only: call it inside an expected-value callable)."""
    torch = oracle.torch
    return getattr(torch, TORCH[name])(torch.tensor(np.asarray(x, dtype=np.float64))).numpy()


def torch_backward(name, x, grad_out):
    """PyTorch's dL/dx in float64 (judge only)."""
    torch = oracle.torch
    tx = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    getattr(torch, TORCH[name])(tx).backward(torch.tensor(np.asarray(grad_out, dtype=np.float64)))
    return tx.grad.numpy()


def check_dtype(what, array, dtype, message):
    """The judge reads the dtype from the raw array the learner's code returned (it crosses with it)."""
    check_that(f"the dtype of {what}", array, lambda a: isinstance(a, np.ndarray) and a.dtype == dtype,
               lambda a: message.format(got=getattr(a, "dtype", type(a).__name__)))


def warnings_of(call):
    """(call's result, the messages of the overflow, invalid-value and division warnings NumPy gave).
    Underflow is allowed: exp(-1000) = 0 is the correctly rounded answer, and a stable sigmoid underflows
    on purpose."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        result = call()
    return result, [str(warning.message) for warning in caught]


def check_no_warnings(what, messages, advice=""):
    """No warning inside the learner's forward and backward: a fact the worker reports about its run."""
    check_equal(f"warnings of {what}", messages, [], lambda messages: (
        f"{what} raised a warning: {messages[0]}. A stable formula never overflows or divides by zero for "
        f"finite inputs.{advice}"))


def run(layer, name, x, grad_out):
    """Forward then backward; returns (y, dL/dx)."""
    with shape_errors_explained(f"{name}.forward"):
        y = layer.forward(x)
    with shape_errors_explained(f"{name}.backward"):
        grad_x = layer.backward(grad_out)
    return y, grad_x


DERIVATIVES = {"Sigmoid": ("s(1 - s) (the sigmoid's derivative)", lambda v: v * (1 - v)),
               "Tanh": ("1 - y^2 (tanh's derivative)", lambda v: 1 - v ** 2),
               "sech": ("sech^2 = 1 / cosh^2", lambda v: 1 / np.cosh(v) ** 2)}


def derivative_alternatives(name, x, grad_out):
    """Known-wrong gradients for each activation: the slips of the formula, systematically (each derivative of
    the family, its own or a sibling's, evaluated at the output, at the input or at the derivative itself, and
    multiplied or divided), then a few of one activation's own."""
    if name == "ReLU":
        return [
            (grad_out * (x < 0), "grad_out * [x < 0]: the mask is inverted; the gradient passes where x > 0."),
            (np.ones_like(x) * (x > 0), "the mask [x > 0] alone: multiply it by grad_out."),
            (grad_out, "grad_out unchanged: the mask passes the gradient at every entry, also where x < 0 (a mask that "
                       "is always true, e.g. output >= 0, which holds everywhere: build it as x > 0 from the input)."),
        ]
    y = torch_forward(name, x)
    right = DERIVATIVES[name][0]
    found = []
    for formula, derivative in DERIVATIVES.values():
        for where, v in (("the output y", y), ("x, computed from the input instead of the output", x),
                         ("the stored derivative (cached in forward, then applied twice)", DERIVATIVES[name][1](y))):
            for how, value in (("times", lambda d: grad_out * d), ("divided by", lambda d: grad_out / d)):
                with np.errstate(all="ignore"):
                    found.append((value(derivative(v)), f"grad_out {how} {formula}, evaluated at {where}: the "
                                  f"derivative of {name} is {right.split(' (')[0]} of its output, times grad_out" +
                                  " (dividing inverts it)." * (how != "times") + "." * (how == "times")))
    own = {"Sigmoid": [(grad_out * y, "grad_out * s: the derivative of the sigmoid is s(1 - s), not s."),
                       (grad_out * (1 - y), "grad_out * (1 - s): the derivative of the sigmoid is s(1 - s)."),
                       (grad_out * y - y ** 2, "grad_out * s - s^2: parentheses missing (precedence), so only "
                                               "part of the derivative multiplies the upstream gradient."),
                       (grad_out * (1 - 2 * y), "grad_out * (1 - 2s): s * 2 where s ** 2 belongs.")],
           "Tanh": [(grad_out * (1 - y), "grad_out * (1 - y): the derivative of tanh is 1 - y^2, with y squared."),
                    (grad_out * y ** 2, "grad_out * y^2: the derivative of tanh is 1 - y^2."),
                    (grad_out - y ** 2, "grad_out * 1 - y^2: parentheses missing (precedence), so y^2 is subtracted "
                                        "from the upstream gradient instead of multiplying it: grad_out * (1 - y^2)."),
                    (grad_out * (1 - 2 * y), "grad_out * (1 - 2y): y * 2 where y ** 2 belongs (square y).")]}[name]
    return [(value, text) for value, text in found if np.all(np.isfinite(value))] + own


RELU_REGIONS = [
    (None, "x == 0 exactly (the kink)", "ReLU's gradient at x == 0 is 0, as in PyTorch: build the mask "
                                        "with a strict x > 0 from the input, not x >= 0."),
    (None, "x <= 0", "the gradient must be 0 wherever x <= 0: take the mask x > 0 from the input."),
]


def relu_regions(x):
    masks = [x == 0, x <= 0]
    return [(mask, description, advice) for mask, (_, description, advice) in zip(masks, RELU_REGIONS)]


def test_activations_are_layers_without_parameters(ex, pkg, rng):
    x = rng.standard_normal((3, 4))
    for name in NAMES:
        layer = getattr(ex, name)()
        check_equal(f"{name} is a Layer", isinstance(layer, pkg.layers.Layer), True,
                    f"{name} must be a subclass of Layer (class {name}(Layer): ... calling super().__init__()).")
        check_equal(f"the number of {name}'s parameters", len(layer.parameters()), 0,
                    lambda count, name=name: f"{name} has {count} parameters; it should have none.")
        check_close_ref(f"{name}(x), calling the layer", layer(x), lambda name=name: torch_forward(name, x))


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_pytorch(ex, rng, name):
    x = 3 * with_exact_zeros(rng, (5, 7))
    layer = getattr(ex, name)()
    with shape_errors_explained(f"{name}.forward"):
        y = layer.forward(x)
    alternatives = lambda: [(torch_forward(other, x), f"{other}'s forward where {name}'s belongs.")  # noqa: E731
                            for other in NAMES if other != name] + [
        (1 - torch_forward(name, x), f"1 - {name}(x): the complement.")] + [
        (1 / (1 + np.exp(x)), "1 / (1 + exp(x)) = sigmoid(-x): the sign inside exp is flipped; sigmoid(x) = "
                              "1 / (1 + exp(-x)).")] * (name == "Sigmoid")
    check_close_ref(f"{name}.forward", y, lambda: torch_forward(name, x), alternatives=alternatives)


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_finite_differences(ex, ref, rng, name):
    x = away_from_zero(rng, (4, 6)) * 2
    grad_out = random_upstream(rng, x.shape)
    check_layer_backward(ref, getattr(ex, name)(), x, grad_out, layer_name=name,
                         alternatives={"x": lambda: derivative_alternatives(name, x, grad_out)})


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_pytorch_with_a_random_upstream_gradient(ex, rng, name):
    x = 2 * with_exact_zeros(rng, (6, 5))
    grad_out = random_upstream(rng, x.shape)
    _, grad_x = run(getattr(ex, name)(), name, x, grad_out)
    check_close_ref(f"{name}.backward: dL/dx", grad_x, lambda: torch_backward(name, x, grad_out),
                    alternatives=lambda: derivative_alternatives(name, x, grad_out),
                    regions=relu_regions(x) if name == "ReLU" else ())


def test_relu_gradient_is_exactly_zero_at_zero(ex, rng):
    x = np.array([[-2.0, -0.0, 0.0, 0.5], [0.0, 3.0, -1e-300, 1e-300]])
    grad_out = random_upstream(rng, x.shape)
    _, grad_x = run(ex.ReLU(), "ReLU", x, grad_out)
    check_close("ReLU.backward at inputs including exact zeros", grad_x, grad_out * (x > 0),
                regions=relu_regions(x))
    check_close_ref("ReLU.backward compared with PyTorch", grad_x, lambda: torch_backward("ReLU", x, grad_out),
                    regions=relu_regions(x))


def test_relu_forward_clips_only_negative_values(ex, rng):
    x = with_exact_zeros(rng, (3, 8))
    y = ex.ReLU().forward(x)
    check_close_ref("ReLU.forward", y, lambda: torch_forward("ReLU", x),
                    alternatives=lambda: [(np.abs(x), "|x|: negative inputs must become 0, not positive.")],
                    regions=lambda: [(x < 0, "x < 0", "negative inputs must become 0.")])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_sigmoid_never_overflows_even_at_the_largest_finite_inputs(ex, rng, dtype):
    x = extremes(dtype)
    layer = ex.Sigmoid()
    grad_out = np.ones_like(x)
    dtype_name = np.dtype(dtype).name
    (y, grad_x), messages = warnings_of(lambda: run(layer, "Sigmoid", x, grad_out))
    check_no_warnings(f"Sigmoid on {dtype_name} inputs as large as ±1000 and ±max", messages,
                      " Compute exp only of -|x|. Note that np.where(c, a, b) evaluates both a and b on every "
                      "entry before choosing: the branch you do not keep still overflows.")
    check_that(f"Sigmoid.forward at extreme {dtype_name} inputs is finite", y,
               lambda y: np.all(np.isfinite(y)), lambda y: (
                   f"Sigmoid.forward returned {y[~np.isfinite(y)]} for inputs {x[~np.isfinite(y)]}: the result "
                   "must be finite for every finite input. Use exp(-|x|), which never overflows."))
    check_dtype(f"Sigmoid.forward of {dtype_name} inputs", y, dtype,
                f"Sigmoid.forward turned {dtype_name} input into {{got}}.")
    check_close_ref(f"Sigmoid.forward at extreme {dtype_name} inputs", y, lambda: torch_forward("Sigmoid", x),
                    rtol=1e-6 if dtype == np.float64 else 1e-5)
    check_close_ref(f"Sigmoid.backward at extreme {dtype_name} inputs", grad_x,
                    lambda: torch_backward("Sigmoid", x, np.ones(x.shape)), atol=1e-7)


@pytest.mark.parametrize("name", ["ReLU", "Tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_relu_and_tanh_stay_finite_at_the_largest_finite_inputs(ex, name, dtype):
    x = extremes(dtype)
    (y, grad_x), messages = warnings_of(lambda: run(getattr(ex, name)(), name, x, np.ones_like(x)))
    check_no_warnings(f"{name} on {np.dtype(dtype).name} inputs as large as ±max", messages)
    check_that(f"{name}'s forward and backward at extreme inputs are finite", [y, grad_x],
               lambda pair: all(np.all(np.isfinite(a)) for a in pair),
               lambda pair: f"{name} returned NaN or inf for finite inputs (forward: {pair[0]}, backward: "
                            f"{pair[1]}).")
    if name == "ReLU":
        # Exact comparison: the norms inside check_close would overflow at float64's max. The judge's value is
        # the reference's (checked against PyTorch's by the maintainer's suite): a closed form here could be
        # evaluated by the learner's process.
        relu = oracle.expected(lambda: y, lambda: torch_forward("ReLU", x), rtol=0, atol=0)
        check_that("ReLU.forward at extreme inputs", y, lambda y: np.array_equal(y, relu()),
                   lambda y: f"ReLU.forward at extreme inputs {x} gave {y}, expected {relu()}.")
    else:
        check_close_ref(f"{name}.forward at extreme inputs", y, lambda: torch_forward(name, x))
    check_close_ref(f"{name}.backward at extreme inputs", grad_x, lambda: torch_backward(name, x, np.ones(x.shape)))


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_gives_float32_out_forward_and_backward(ex, rng, name):
    x = rng.standard_normal((8, 5)).astype(np.float32)
    grad_out = random_upstream(rng, x.shape).astype(np.float32)
    y, grad_x = run(getattr(ex, name)(), name, x, grad_out)
    check_dtype(f"{name}.forward of float32 inputs", y, np.float32,
                f"{name}.forward turned float32 input into {{got}}: keep the input's dtype (float32 trains about "
                "twice as fast; a float64 constant array such as np.ones(shape) silently upcasts).")
    check_dtype(f"{name}.backward of a float32 gradient", grad_x, np.float32,
                f"{name}.backward turned a float32 gradient into {{got}}: keep the gradient's dtype (a float64 "
                "constant array such as np.ones(shape) silently upcasts).")
    check_close_ref(f"{name}.forward in float32", y, lambda: torch_forward(name, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_forward_and_backward_do_not_modify_their_inputs(ex, rng, name):
    x = with_exact_zeros(rng, (4, 5)) * 2
    grad_out = random_upstream(rng, x.shape)
    x_before, grad_before = x.copy(), grad_out.copy()
    y, _ = run(getattr(ex, name)(), name, x, grad_out)
    check_unchanged(f"{name}.forward", x_before, x)
    check_unchanged(f"{name}.backward", grad_before, grad_out)
    check_close_ref(f"{name}.forward", y, lambda: torch_forward(name, x_before))  # it ran, and left its inputs


@pytest.mark.parametrize("name", NAMES)
def test_backward_uses_the_latest_forward(ex, rng, name):
    layer = getattr(ex, name)()
    first = rng.standard_normal((3, 4))
    second = away_from_zero(rng, (3, 4))
    grad_out = random_upstream(rng, second.shape)
    layer.forward(first)
    _, grad_x = run(layer, name, second, grad_out)
    check_close_ref(f"{name}.backward after two forward calls", grad_x, lambda: torch_backward(name, second, grad_out),
                    alternatives=lambda: [(torch_backward(name, first, grad_out), "the gradient at the input of "
                                           "the first call of forward (stale): forward must overwrite what it "
                                           "remembered.")])
