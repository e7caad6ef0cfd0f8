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
from helpers import numerical_gradient, once, random_upstream, torch_float64


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


def check_input_gradient(what, got, expected_shape, out_shape):
    """A sentence when a leaf's gradient is missing or has the wrong shape (judged from its shape)."""
    __tracebackhide__ = True

    def message(shape):
        if shape is None:
            return (f"{what} is None after backward(): the backward pass never reached this input. Does the "
                    "operation return a Tensor whose _backward returns one gradient per parent?")
        if tuple(shape) == tuple(out_shape):
            return (f"{what} has shape {tuple(shape)}, the shape of the result, but the input has shape "
                    f"{expected_shape}: it was broadcast, so its gradient must be summed over the broadcast "
                    "axes (unbroadcast) to get back to the input's shape.")
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
    out, grads = engine_gradients(ex, fn, arrays, upstream_of)
    upstream = drawn[0]
    upstream_before = upstream.copy()
    out_shape = upstream.shape
    expected = once(lambda: torch_gradients(torch_fn, arrays, upstream))
    numeric = once(lambda: finite_differences(ref, ex, fn, arrays, upstream))
    check_close_ref(f"{name}: the forward value", out, lambda: expected()[0])
    for i, grad in enumerate(grads):
        what = f"{name}: dL/d(input {i}) after backward(G)"
        check_input_gradient(what, grad, arrays[i].shape, out_shape)
        options = dict(batch_size=batch_size, alternatives=lambda i=i: alternatives(arrays, upstream).get(i, ()),
                       regions=lambda i=i: regions(arrays).get(i, ()), given={"G (the upstream gradient)": upstream})
        check_close(what + " (against finite differences)", grad, lambda i=i: numeric()[i], **options)
        check_close_ref(what + " (against PyTorch)", grad, lambda i=i: expected()[1][i], **options)
    for a, b in zip(before, arrays):
        check_unchanged(f"{name} (forward or backward)", a, b)
    check_unchanged(f"{name}: backward(G)", upstream_before, upstream)


# ----- every operation: (id, engine fn, torch fn, input maker, alternatives) -----

def _shapes(*shapes, kinds=None):
    kinds = kinds or ["signed"] * len(shapes)
    return lambda rng: [(signed if k == "signed" else positive)(rng, s) for s, k in zip(shapes, kinds)]


MUL_SWAPPED = ("g times this operand itself: the gradients of a * b are swapped; dL/da = g b takes the OTHER "
               "operand, and dL/db = g a.")
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
     lambda x, g: {1: [(g * x[0] / x[1] ** 2, "+g a / b^2: the derivative of a / b in b is -a / b^2 "
                        "(a minus sign is lost)."),
                       (-g / x[1] ** 2, "-g / b^2 without the factor a: d(a/b)/db = -a / b^2.")]}),
    ("negate", lambda a: -a, lambda a: -a, _shapes((3, 4)), None),
    ("power by a number", lambda a: a ** 3, lambda a: a ** 3, _shapes((3, 4)),
     lambda x, g: {0: [(g * x[0] ** 3 * 3, "g * 3 a^3: the exponent of a must drop by one, 3 a^2.")]}),
    ("power with a tensor exponent", lambda a, b: a ** b, lambda a, b: a ** b,
     _shapes((3, 4), (3, 4), kinds=["positive", "signed"]), None),
    ("number to a tensor power", lambda a: 2.0 ** a, lambda a: 2.0 ** a, _shapes((3, 4)), None),
    ("number minus a tensor", lambda a: 1.5 - a, lambda a: 1.5 - a, _shapes((3, 4)), None),
    ("number divided by a tensor", lambda a: 1.5 / a, lambda a: 1.5 / a,
     _shapes((3, 4), kinds=["positive"]), None),
    ("array times a tensor (reflected)", lambda a: np.linspace(-1, 1, 4) * a,
     lambda a: oracle.torch.linspace(-1, 1, 4, dtype=oracle.torch.float64) * a, _shapes((3, 4)), None),
    ("matrix product", lambda a, b: a @ b, lambda a, b: a @ b, _shapes((3, 4), (4, 4)),
     lambda x, g: {0: [(g @ x[1], "G B instead of G B^T: transpose B in dL/dA = G B^T.")]}),
    ("sum over everything", lambda a: a.sum(), lambda a: a.sum(), _shapes((3, 4)), None),
    ("sum over axis 1", lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), _shapes((3, 4)), None),
    ("sum over axis 0 keeping it", lambda a: a.sum(axis=0, keepdims=True),
     lambda a: a.sum(dim=0, keepdim=True), _shapes((3, 4)), None),
    ("mean over everything", lambda a: a.mean(), lambda a: a.mean(), _shapes((3, 4)), None),
    ("mean over axis 0", lambda a: a.mean(axis=0), lambda a: a.mean(dim=0), _shapes((5, 4)), None),
    ("exp", lambda a: a.exp(), lambda a: a.exp(), _shapes((3, 4)), None),
    ("log", lambda a: a.log(), lambda a: a.log(), _shapes((3, 4), kinds=["positive"]), None),
    ("tanh", lambda a: a.tanh(), lambda a: a.tanh(), _shapes((3, 4)),
     lambda x, g: {0: [(g * (1 - np.tanh(x[0])), "g (1 - tanh): the derivative of tanh is 1 - tanh^2.")]}),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: a.sigmoid(), _shapes((3, 4)), None),
    ("relu", lambda a: a.relu(), lambda a: a.relu(), _shapes((3, 4)), None),
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


# ----- broadcasting -----

BROADCASTS = [
    ("(3,1) + (1,4)", lambda a, b: a + b, (3, 1), (1, 4)),
    ("(5,4) * (4,)", lambda a, b: a * b, (5, 4), (4,)),
    ("(5,4) - (5,1)", lambda a, b: a - b, (5, 4), (5, 1)),
    ("(4,) / (2,3,4)", lambda a, b: a / b, (4,), (2, 3, 4)),
    ("(3,4) * scalar", lambda a, b: a * b, (3, 4), ()),
]


@pytest.mark.parametrize("case", BROADCASTS, ids=[c[0] for c in BROADCASTS])
def test_a_broadcast_operand_gets_its_gradient_summed_over_the_broadcast_axes(ex, ref, rng, case):
    name, fn, shape_a, shape_b = case
    arrays = [signed(rng, shape_a), positive(rng, shape_b)]
    check_operation(ex, ref, rng, name, fn, fn, arrays)


def test_unbroadcast_sums_added_and_stretched_axes(ex, rng):
    g = rng.standard_normal((2, 3, 4))
    check_close_ref("unbroadcast(g of shape (2, 3, 4), (3, 1))", ex.unbroadcast(g, (3, 1)),
                    lambda: pytorch_unbroadcast(g, (3, 1)))
    check_close_ref("unbroadcast(g of shape (2, 3, 4), ())", ex.unbroadcast(g, ()), lambda: pytorch_unbroadcast(g, ()))
    check_close_ref("unbroadcast(g of shape (2, 3, 4), (2, 3, 4))", ex.unbroadcast(g, (2, 3, 4)),
                    lambda: pytorch_unbroadcast(g, (2, 3, 4)))


def pytorch_unbroadcast(g, shape):
    """The gradient PyTorch's autograd gives an operand of `shape` broadcast into g's shape (judge only)."""
    torch = oracle.torch
    operand = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    (operand + torch.zeros(g.shape, dtype=torch.float64)).backward(torch.tensor(g))
    return operand.grad.numpy()


# ----- matmul shapes, indexing -----

MATMULS = [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
           ((2, 3, 4), (2, 4, 5))]


@pytest.mark.parametrize("shapes", MATMULS, ids=[f"{a}@{b}" for a, b in MATMULS])
def test_matmul_gradients_for_matrices_vectors_and_stacks(ex, ref, rng, shapes):
    arrays = [signed(rng, s) for s in shapes]
    check_operation(ex, ref, rng, f"{shapes[0]} @ {shapes[1]}", lambda a, b: a @ b, lambda a, b: a @ b, arrays)


def test_indexing_with_repeated_indices_adds_every_contribution(ex, ref, rng):
    x = signed(rng, (4, 3))
    index = np.array([0, 2, 0, 0])

    def overwritten(arrays, g):
        wrong = np.zeros_like(arrays[0])
        wrong[index] = g
        return {0: [(wrong, "the gradient with each repeated row counted once (grad[index] = g overwrites): "
                           "use np.add.at, which adds once per selection, so that every repeated row adds its share.")]}

    check_operation(ex, ref, rng, "x[[0, 2, 0, 0]]", lambda a: a[index], lambda a: a[oracle.torch.tensor(index)],
                    [x], alternatives=overwritten)


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
            (g * softmax / n, "g softmax / N without subtracting the one-hot labels.")]})


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
