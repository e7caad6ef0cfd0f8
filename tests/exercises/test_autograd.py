"""Stretch exercise (autograd): a reverse-mode automatic differentiation engine, operation by operation
(how the graph behaves as a whole: test_autograd_graph.py).

Every gradient is compared with two expected values computed by the judge at test time: central finite
differences of the reference engine's forward pass (float64, random upstream gradients), and the reference
engine's own gradient, which `make test` checks against PyTorch's autograd on the same expression
(grader/feedback/oracle.py).
"""

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_unchanged
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import numerical_gradient, once, random_upstream, shape_errors_explained, torch_float64


# ----- helpers -----

def signed(rng, shape):
    """Values in +-[0.5, 2]: away from 0, where ReLU's kink would spoil finite differences."""
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def positive(rng, shape):
    """Values in [0.5, 2], for log, a divisor and the base of a power."""
    return rng.uniform(0.5, 2.0, size=shape)


def engine_gradients(ex, fn, arrays, upstream):
    """Run fn on leaf Tensors, backward(upstream); return (forward data, [grad of each input]).

    upstream: an array, or a function of the output's shape that returns one."""
    leaves = [ex.Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    assert isinstance(out, ex.Tensor), f"the operation returned a {type(out).__name__}, not a Tensor."
    if callable(upstream):
        upstream = upstream(np.shape(out.data))
    out.backward(upstream)
    return out.data, [leaf.grad for leaf in leaves]


def torch_gradients(torch_fn, arrays, upstream):
    leaves = [torch_float64(a, requires_grad=True) for a in arrays]
    out = torch_fn(*leaves)
    out.backward(oracle.torch.as_tensor(upstream))
    return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


def finite_differences(ref, ex, fn, arrays, upstream):
    """dL/d(input) for L = sum(fn(inputs) * upstream), by central differences of the engine's forward."""
    arrays = [a.copy() for a in arrays]
    with ex.no_grad():
        def loss():
            return float(np.sum(fn(*[ex.Tensor(a) for a in arrays]).data * upstream))
        return [numerical_gradient(ref, loss, a) for a in arrays]


def check_input_gradient(what, got, expected_shape, out_shape, other_shapes=()):
    """A sentence when a leaf's gradient is missing or has the wrong shape (judged from its shape)."""
    __tracebackhide__ = True

    def message(shape):
        if shape is None:
            return (f"{what} is None after backward(): the backward pass never reached this input. Does the "
                    "operation return a Tensor whose _backward returns one gradient per parent? Does backward() "
                    "visit the nodes from the output to the leaves (reversed topological order), so that a "
                    "node's gradient is complete when it is passed on?")
        if tuple(shape) == tuple(out_shape) and np.prod(shape) != np.prod(expected_shape):
            return (f"{what} has shape {tuple(shape)}, the shape of the result, but the input has shape "
                    f"{expected_shape}: it was broadcast, so its gradient must be summed over the broadcast "
                    "axes (unbroadcast) to get back to the input's shape.")
        if tuple(shape) == tuple(out_shape) and np.prod(shape) < np.prod(expected_shape):
            return (f"{what} has shape {tuple(shape)}, the shape of the result, but the input has shape "
                    f"{expected_shape}: a reduction's gradient goes back to every entry it reduced; broadcast g to "
                    "the input's shape (np.broadcast_to, after np.expand_dims(g, axis) when the axis was dropped).")
        if np.prod(shape) == np.prod(expected_shape):
            return (f"{what} has shape {tuple(shape)}, expected {expected_shape}: as many entries in another layout. "
                    "Give the gradient its input's shape: a reshape's gradient is g.reshape(input shape); a "
                    "transpose by `axes` takes g back with the INVERSE permutation, np.argsort(axes) (not axes again).")
        if tuple(shape) in [tuple(other) for other in other_shapes]:
            return (f"{what} has shape {tuple(shape)}, the shape of the OTHER operand, expected {expected_shape}: "
                    "unbroadcast each operand's gradient to its own shape (a copy-paste of the other line?).")
        return f"{what} has shape {tuple(shape)}, expected {expected_shape}."

    check_equal(f"{what}: its shape", None if got is None else np.shape(got), expected_shape, message)


def check_operation(ex, ref, rng, name, fn, torch_fn, arrays, alternatives=None, batch_size=None,
                    regions=None):
    """Forward against PyTorch; each input's gradient against finite differences and PyTorch.

    The upstream gradient G has the output's shape; it comes from a generator seeded from rng, so that
    the test's later draws do not depend on the shape the learner's operation returns."""
    __tracebackhide__ = True
    alternatives = alternatives or (lambda arrays, g: {})
    regions = regions or (lambda arrays: {})
    upstream_seed = int(rng.integers(2**32))
    drawn = []

    def upstream_of(shape):
        drawn.append(random_upstream(np.random.default_rng(upstream_seed), shape))
        return drawn[-1]

    before = [a.copy() for a in arrays]
    with shape_errors_explained(f"{name}: forward or backward(G)", advice=shapes_advice(name)):
        out, grads = engine_gradients(ex, fn, arrays, upstream_of)
    upstream = drawn[0]
    upstream_before = upstream.copy()
    out_shape = upstream.shape
    expected = once(lambda: torch_gradients(torch_fn, arrays, upstream))
    numeric = once(lambda: finite_differences(ref, ex, fn, arrays, upstream))
    check_close_ref(f"{name}: the forward value", out, lambda: expected()[0])
    for i, grad in enumerate(grads):
        what = f"{name}: dL/d(input {i}) after backward(G)"
        check_input_gradient(what, grad, arrays[i].shape, out_shape, [a.shape for a in arrays[:i] + arrays[i + 1:]])
        options = dict(batch_size=batch_size, regions=lambda i=i: regions(arrays).get(i, ()),
                       alternatives=lambda i=i: list(alternatives(arrays, upstream).get(i, ())) + [
                           (torch_gradients(torch_fn, arrays, np.ones(out_shape))[1][i], UPSTREAM_IGNORED)],
                       given={"G (the upstream gradient)": upstream})
        check_close(what + " (against finite differences)", grad, lambda i=i: numeric()[i], **options)
        check_close_ref(what + " (against PyTorch)", grad, lambda i=i: expected()[1][i], **options)
    for a, b in zip(before, arrays):
        check_unchanged(f"{name} (forward or backward)", a, b)
    check_unchanged(f"{name}: backward(G)", upstream_before, upstream)


UPSTREAM_IGNORED = ("the gradient for an upstream gradient of ones instead of G: backward(grad) must start from the "
                    "grad argument it is given (dL/d(output) = G), and each _backward must multiply by the g it "
                    "receives; ones only when no grad is given.")


def shapes_advice(name):
    """What a shape error inside an operation's forward or backward most likely means, for this operation."""
    advice = ["Each gradient an operation returns must have its parent's shape: where an operand was broadcast, "
              "unbroadcast(grad, parent.data.shape) sums over the LEADING axes NumPy prepended, then over each "
              "axis where the operand has length 1 (keepdims=True)."]
    if "@" in name or "matrix" in name:
        advice.append("A matrix product's gradients are dL/dA = G B^T and dL/dB = A^T G, in that order: "
                      "(n, m) @ (m, p) -> (n, p) says which operand goes where.")
    if "sum" in name or "mean" in name:
        advice.append("A sum or mean over an axis without keepdims removes that axis: put it back "
                      "(np.expand_dims(g, axis)) before broadcasting g to the input's shape.")
    return " ".join(advice)


def unary_slips(derivative_of_input, derivative_of_output, function, formula, output_formula=None):
    """The usual slips of g * f'(a) for out = f(a): the derivative taken at the output instead of the input (or
    the output's formula applied to the input), or g left out. `formula`, `output_formula`: f' as text."""
    def alternatives(x, g):
        a = x[0]
        out = function(a)
        found = [(derivative_of_input(a), "the local derivative alone, without the upstream gradient g: the "
                                          "chain rule multiplies it by g = dL/d(out)."),
                 (g * derivative_of_input(out), f"g times {formula} evaluated at the output instead of the input: "
                                                f"the derivative is {formula} of the input a, not of out = f(a).")]
        if derivative_of_output is not None:
            found.append((g * derivative_of_output(a), f"g times {output_formula} computed from the input a instead "
                                                       f"of the output: {output_formula} is written in terms of out "
                                                       "= f(a)."))
        return {0: found}
    return alternatives


def mean_slips(axis):
    """The usual slips of a mean's gradient g / count broadcast back: no division, or the wrong count."""
    def alternatives(x, g):
        a = x[0]
        g = g if axis is None else np.expand_dims(g, axis)
        count = a.size if axis is None else a.shape[axis]
        return {0: [(np.broadcast_to(g, a.shape), f"g broadcast back without dividing by the number of averaged "
                                                  f"entries ({count}): a mean's gradient is g / count."),
                    (np.broadcast_to(g / a.size, a.shape), f"g divided by every entry of the input ({a.size}): the "
                                                           f"count is the number averaged together, {count}, the "
                                                           "length of the reduced axis.")]
                if axis is not None else [(np.broadcast_to(g, a.shape), f"g broadcast back without dividing by the "
                                                                        f"number of averaged entries ({count}).")]}
    return alternatives


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ----- every operation: (id, engine fn, torch fn, input maker, alternatives) -----

def _shapes(*shapes, kinds=None):
    kinds = kinds or ["signed"] * len(shapes)
    return lambda rng: [(signed if k == "signed" else positive)(rng, s) for s, k in zip(shapes, kinds)]


MUL_SWAPPED = ("g times this operand itself: the gradients of a * b are swapped; dL/da = g b takes the OTHER "
               "operand, and dL/db = g a.")
SQUEEZED = ("g broadcast without putting the reduced axis back: NumPy lines a (4,) array up with the LAST axis, so "
            "each row received the column's gradient. Restore the axis first (np.expand_dims(g, axis)), then "
            "broadcast to the input's shape.")
PRECEDENCE = "** binds before -, so a ** b - 1 is (a^b) - 1: write a ** (b - 1) with parentheses."
SUB_SIGN = "dL/db = +g for a - b: the gradient of the subtracted operand is -g (a minus sign is lost)."
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, _shapes((3, 4), (3, 4)), None),
    ("subtract", lambda a, b: a - b, lambda a, b: a - b, _shapes((3, 4), (3, 4)),
     lambda x, g: {1: [(g, SUB_SIGN)]}),
    ("multiply", lambda a, b: a * b, lambda a, b: a * b, _shapes((3, 4), (3, 4)),
     lambda x, g: {0: [(x[1], "b alone, without the upstream gradient g: the chain rule multiplies "
                       "d(out)/da = b by g = dL/d(out)."), (g * x[0], MUL_SWAPPED)],
                   1: [(x[0], "a alone, without the upstream gradient g: the chain rule multiplies "
                       "d(out)/db = a by g = dL/d(out)."), (g * x[1], MUL_SWAPPED)]}),
    ("divide", lambda a, b: a / b, lambda a, b: a / b, _shapes((3, 4), (3, 4), kinds=["signed", "positive"]),
     lambda x, g: {0: [(g * x[1], "g b: the derivative of a / b in a is 1 / b (divide by b).")],
                   1: [(g * x[0] / x[1] ** 2, "+g a / b^2: the derivative of a / b in b is -a / b^2 "
                        "(a minus sign is lost)."),
                       (-g / x[1] ** 2, "-g / b^2 without the factor a: d(a/b)/db = -a / b^2."),
                       (-g * x[0] / x[1], "-g a / b, b not squared: d(a/b)/db = -a / b^2."),
                       (g / x[1], "g / b, dL/da's formula: d(a/b)/db = -a / b^2.")]}),
    ("negate", lambda a: -a, lambda a: -a, _shapes((3, 4)), None),
    ("power by a number", lambda a: a ** 3, lambda a: a ** 3, _shapes((3, 4)),
     lambda x, g: {0: [(g * x[0] ** 3 * 3, "g * 3 a^3: the exponent of a must drop by one, 3 a^2."),
                       (g * 3 * x[0] ** 3 - 1, f"g b a^b - 1: {PRECEDENCE}")]}),
    ("power with a tensor exponent", lambda a, b: a ** b, lambda a, b: a ** b,
     _shapes((3, 4), (3, 4), kinds=["positive", "signed"]), None),
    ("power with a positive tensor exponent", lambda a, b: a ** b, lambda a, b: a ** b,
     _shapes((3, 4), (3, 4), kinds=["positive", "positive"]),
     lambda x, g: {0: [(g * x[0] ** x[1] * np.log(x[0]), "g out log(a), the exponent's derivative: d(a^b)/da = "
                        "b a^(b - 1)."), (g * x[1] * x[0] ** x[1], "g b a^b: the exponent drops by one, b a^(b - 1)."),
                       (g * x[1] * x[0] ** x[1] - 1, f"g b a^b - 1: {PRECEDENCE}")],
                   1: [(g * x[0] ** x[1] * np.log(x[1]), "g out log(b), the log of the exponent: d(a^b)/db = a^b "
                        "log(a), the log of the base."),
                       (g * x[1] * x[0] ** (x[1] - 1), "g b a^(b - 1), the base's derivative: d(a^b)/db = a^b "
                        "log(a).")]}),
    ("number to a tensor power", lambda a: 2.0 ** a, lambda a: 2.0 ** a, _shapes((3, 4)), None),
    ("number minus a tensor", lambda a: 1.5 - a, lambda a: 1.5 - a, _shapes((3, 4)), None),
    ("number divided by a tensor", lambda a: 1.5 / a, lambda a: 1.5 / a,
     _shapes((3, 4), kinds=["positive"]), None),
    ("array times a tensor (reflected)", lambda a: np.linspace(-1, 1, 4) * a,
     lambda a: oracle.torch.linspace(-1, 1, 4, dtype=oracle.torch.float64) * a, _shapes((3, 4)), None),
    ("matrix product", lambda a, b: a @ b, lambda a, b: a @ b, _shapes((3, 4), (4, 4)),
     lambda x, g: {0: [(g @ x[1], "G B instead of G B^T: transpose B in dL/dA = G B^T.")],
                   1: [(g.T @ x[0], "G^T A, the product in the wrong order: dL/dB = A^T G.")]}),
    ("square matrix product", lambda a, b: a @ b, lambda a, b: a @ b, _shapes((4, 4), (4, 4)),
     lambda x, g: {0: [(g @ x[1], "G B instead of G B^T: transpose B in dL/dA = G B^T."),
                       (x[1].T @ g, "B^T G, the operands in the wrong order: dL/dA = G B^T.")],
                   1: [(g @ x[0].T, "G A^T, the operands in the wrong order: dL/dB = A^T G."),
                       (x[0] @ g, "A G instead of A^T G: transpose A in dL/dB = A^T G.")]}),
    ("sum over everything", lambda a: a.sum(), lambda a: a.sum(), _shapes((3, 4)), None),
    ("sum over axis 1", lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), _shapes((3, 4)), None),
    ("sum over axis 0 keeping it", lambda a: a.sum(axis=0, keepdims=True),
     lambda a: a.sum(dim=0, keepdim=True), _shapes((3, 4)), None),
    ("mean over everything", lambda a: a.mean(), lambda a: a.mean(), _shapes((3, 4)), mean_slips(None)),
    ("mean over axis 0", lambda a: a.mean(axis=0), lambda a: a.mean(dim=0), _shapes((5, 4)), mean_slips(0)),
    ("sum over axis 1 of a square matrix", lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), _shapes((4, 4)),
     lambda x, g: {0: [(np.broadcast_to(g, x[0].shape), SQUEEZED)]}),
    ("mean over axis 1 of a square matrix", lambda a: a.mean(axis=1), lambda a: a.mean(dim=1), _shapes((4, 4)),
     lambda x, g: {0: [(np.broadcast_to(g / 4, x[0].shape), SQUEEZED)]}),
    ("exp", lambda a: a.exp(), lambda a: a.exp(), _shapes((3, 4)),
     unary_slips(np.exp, lambda out: out, np.exp, "exp(a)", "out")),
    ("log", lambda a: a.log(), lambda a: a.log(), _shapes((3, 4), kinds=["positive"]),
     unary_slips(lambda a: 1 / a, None, np.log, "1 / a")),
    ("tanh", lambda a: a.tanh(), lambda a: a.tanh(), _shapes((3, 4)),
     lambda x, g: {0: [(g * (1 - np.tanh(x[0])), "g (1 - tanh): the derivative of tanh is 1 - tanh^2.")]
                   + unary_slips(lambda a: 1 - np.tanh(a) ** 2, lambda out: 1 - out ** 2, np.tanh,
                                 "1 - tanh(a)^2", "1 - out^2")(x, g)[0]}),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: a.sigmoid(), _shapes((3, 4)),
     unary_slips(lambda a: sigmoid(a) * (1 - sigmoid(a)), lambda out: out * (1 - out), sigmoid,
                 "s(a) (1 - s(a))", "out (1 - out)")),
    ("relu", lambda a: a.relu(), lambda a: a.relu(), _shapes((3, 4)),
     lambda x, g: {0: [(g * (g > 0), "g where g > 0: the mask comes from the INPUT (g where a > 0), not from the "
                        "sign of the upstream gradient."),
                       (g * np.maximum(x[0], 0), "g times relu(a), the output: the derivative is the mask a > 0 "
                        "(1 or 0), not the value.")]}),
    ("reshape", lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), _shapes((3, 4)), None),
    ("transpose .T", lambda a: a.T, lambda a: a.T, _shapes((3, 4)), None),
    ("transpose of three axes", lambda a: a.transpose(1, 2, 0), lambda a: a.permute(1, 2, 0),
     _shapes((2, 3, 4)), None),
    ("slicing", lambda a: a[1:, ::2], lambda a: a[1:, ::2], _shapes((3, 4)), None),
    ("integer-array indexing", lambda a: a[np.array([2, 0])], lambda a: a[oracle.torch.tensor([2, 0])],
     _shapes((3, 4)), None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_operation_matches_finite_differences_and_pytorch(ex, ref, rng, case):
    name, fn, torch_fn, make, alternatives = case
    check_operation(ex, ref, rng, name, fn, torch_fn, make(rng), alternatives=alternatives)


def test_relu_gradient_is_zero_where_the_input_is_negative(ex, ref, rng):
    x = signed(rng, (4, 5))
    check_operation(ex, ref, rng, "relu", lambda a: a.relu(), lambda a: a.relu(), [x],
                    regions=lambda arrays: {0: [(arrays[0] <= 0, "x <= 0",
                                                 "the mask must come from the input: g where x > 0, else 0.")]})


def test_mean_divides_the_gradient_by_the_number_of_averaged_entries(ex, ref, rng):
    n = 6
    check_operation(ex, ref, rng, "mean over axis 0", lambda a: a.mean(axis=0), lambda a: a.mean(dim=0),
                    [signed(rng, (n, 3))], batch_size=n)


# ----- cross-entropy -----

def _torch_cross_entropy(logits, labels):
    torch = oracle.torch
    return torch.nn.functional.cross_entropy(logits, torch.as_tensor(labels))


def test_cross_entropy_matches_pytorch_and_finite_differences(ex, ref, rng):
    n, c = 8, 5
    logits = rng.standard_normal((n, c)) * 3
    labels = rng.integers(0, c, size=n)
    onehot = np.eye(c)[labels]
    z = logits - logits.max(axis=1, keepdims=True)
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    check_operation(
        ex, ref, rng, "cross_entropy", lambda a: ex.cross_entropy(a, labels),
        lambda a: _torch_cross_entropy(a, labels), [logits], batch_size=n,
        alternatives=lambda arrays, g: {0: [
            (g * (onehot - softmax) / n, "g (onehot - softmax) / N: the sign is flipped; dL/dz = "
                                         "(softmax - onehot) / N."),
            (g * softmax / n, "g softmax / N without subtracting the one-hot labels."),
            (g * (np.exp(z) - onehot) / n, "g (exp(z - max) - onehot) / N: the exponentials are not normalised; "
                                           "softmax = exp(z - max) / sum(exp(z - max)), so that each row sums to 1.")]})


def test_cross_entropy_is_one_node_and_stable_for_logits_of_1e4(ex, rng):
    n, c = 6, 4
    logits = rng.choice([-1e4, 1e4], size=(n, c)) + rng.standard_normal((n, c))
    labels = rng.integers(0, c, size=n)
    for dtype in (np.float64, np.float32):
        t = ex.Tensor(logits.astype(dtype), requires_grad=True)
        try:
            # Underflow (exp(-2e4) == 0) is harmless; overflow, inf - inf and log(0) are not.
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                loss = ex.cross_entropy(t, labels)
                loss.backward()
        except FloatingPointError as error:
            raise AssertionError(
                f"cross_entropy with logits of +-1e4 ({np.dtype(dtype).name}) raised '{error}': exp "
                "overflowed. Subtract each row's maximum before exp (logsumexp).") from None
        check_equal(f"cross_entropy's node has the logits as its only parent ({np.dtype(dtype).name})",
                    len(loss._parents) == 1 and loss._parents[0] is t, True,
                    "cross_entropy must be one graph node whose only parent is the logits (fused forward and "
                    "backward), not a chain of exp, sum, log and indexing.")

        def pytorch():
            tl = torch_float64(logits, requires_grad=True)
            expected = _torch_cross_entropy(tl, labels)
            expected.backward()
            return expected.item(), tl.grad.numpy()

        tol = dict(rtol=1e-5, atol=1e-7) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
        check_close_ref(f"cross_entropy of logits +-1e4 ({np.dtype(dtype).name})", loss.data, lambda: pytorch()[0],
                        **tol)
        check_close_ref(f"dL/dlogits for logits +-1e4 ({np.dtype(dtype).name})", t.grad, lambda: pytorch()[1],
                        batch_size=n, **tol)


def test_relu_gradient_is_zero_where_the_input_is_exactly_zero(ex, rng):
    x = signed(rng, (4, 5))
    x[::2, 1::2] = 0.0  # the kink itself: the docstring (and PyTorch) give the gradient 0 there
    upstream = random_upstream(rng, x.shape)
    _, grads = engine_gradients(ex, lambda a: a.relu(), [x], upstream)

    def pytorch():
        t = torch_float64(x, requires_grad=True)
        t.relu().backward(oracle.torch.as_tensor(upstream))
        return t.grad.numpy()

    check_close_ref("relu: dL/d(input 0) for an input with exact zeros", grads[0], pytorch,
                    regions=[(x == 0, "x == 0", "the gradient of relu at exactly 0 is 0: the mask is x > 0, not "
                                                "x >= 0, as the docstring and PyTorch say.")])
