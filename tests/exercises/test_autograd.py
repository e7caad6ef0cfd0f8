"""Stretch exercise (autograd): a reverse-mode automatic differentiation engine.

Every gradient is compared with two independent oracles computed by the judge at test time: central
finite differences of the reference engine's forward pass (float64, random upstream gradients), and
PyTorch's autograd on the same expression.
"""

import sys

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_that, check_unchanged
from grader.feedback.oracle import torch
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
    out.backward(torch.as_tensor(upstream))
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
    check_close(f"{name}: the forward value", out, lambda: expected()[0])
    for i, grad in enumerate(grads):
        what = f"{name}: dL/d(input {i}) after backward(G)"
        check_input_gradient(what, grad, arrays[i].shape, out_shape)
        options = dict(batch_size=batch_size, alternatives=lambda i=i: alternatives(arrays, upstream).get(i, ()),
                       regions=lambda i=i: regions(arrays).get(i, ()))
        check_close(what + " (against finite differences)", grad, lambda i=i: numeric()[i], **options)
        check_close(what + " (against PyTorch)", grad, lambda i=i: expected()[1][i], **options)
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
     lambda a: torch.linspace(-1, 1, 4, dtype=torch.float64) * a, _shapes((3, 4)), None),
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
    ("integer-array indexing", lambda a: a[np.array([2, 0])], lambda a: a[torch.tensor([2, 0])],
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
    check_close("unbroadcast(g of shape (2, 3, 4), (3, 1))", ex.unbroadcast(g, (3, 1)),
                g.sum(axis=(0, 2)).reshape(3, 1))
    check_close("unbroadcast(g of shape (2, 3, 4), ())", ex.unbroadcast(g, ()), g.sum())
    check_close("unbroadcast(g of shape (2, 3, 4), (2, 3, 4))", ex.unbroadcast(g, (2, 3, 4)), g)


# ----- accumulation -----

def test_a_tensor_used_twice_accumulates_both_contributions(ex, ref, rng):
    x = signed(rng, (3, 4))
    g = random_upstream(rng, (3, 4))
    for name, fn, once in [
        ("x * x", lambda t: t * t, g * x),
        ("x + x", lambda t: t + t, g),
    ]:
        _, (grad,) = engine_gradients(ex, fn, [x], g)
        check_close(f"{name}: dL/dx", grad, lambda fn=fn: finite_differences(ref, ex, fn, [x], g)[0],
                    alternatives=[(once, "the contribution of one use of x only: when a tensor is used twice, "
                                   "the gradients from both uses must be added (accumulate with +), not "
                                   "overwritten.")])


def test_a_shared_intermediate_is_visited_after_all_of_its_users(ex, rng):
    # p feeds both q = tanh(p) and the product p * q: p's gradient is complete only after q's node
    # has passed its share back, so p must come after q in the reverse order.
    def fn(x):
        p = x * 3.0
        q = p.tanh()
        return p * q
    x = signed(rng, (3, 4)) * 0.3
    g = random_upstream(rng, (3, 4))
    # The premise, checked first: a node that receives two gradients adds them. A wrong result below
    # then comes from the order in which the nodes are visited, and the message can say so.
    _, (twice,) = engine_gradients(ex, lambda t: t + t, [x], g)
    check_close("x + x: dL/dx (a tensor used twice, the premise of this test)", twice, 2 * g,
                alternatives=[(g, "the gradient of one use of x only: the second gradient that reached x replaced "
                               "the first. When a gradient arrives for a node that already has one, add it "
                               "(accumulate with +=), never assign it.")])
    _, (grad,) = engine_gradients(ex, fn, [x], g)

    def pytorch():
        tx = torch_float64(x, requires_grad=True)
        fn(tx).backward(torch.as_tensor(g))
        return tx.grad.numpy()

    p, q = 3.0 * x, np.tanh(3.0 * x)
    check_close("dL/dx through p = 3x, q = tanh(p), out = p * q (p feeds two nodes)", grad, pytorch,
                alternatives=[
                    (3.0 * g * p * (1 - q * q), "the gradient through tanh(p) only: the second gradient that "
                     "reached p replaced the first. When a gradient arrives for a node that already has one, add "
                     "it (accumulate with +=), never assign it."),
                    (3.0 * g * q, "the gradient of the direct path p * q only, though a tensor used twice gets "
                     "both contributions (x + x passed): p passed its gradient on before tanh(p) had added its "
                     "share, so the topological order is wrong. A node must be processed only after every node "
                     "that uses it; in the depth-first search mark a node visited when you expand it, not when "
                     "you push it.")])


def test_gradients_accumulate_across_backward_calls(ex, rng):
    x = signed(rng, (3, 4))
    first, second = random_upstream(rng, (3, 4)), random_upstream(rng, (3, 4))
    leaf = ex.Tensor(x.copy(), requires_grad=True)
    (leaf * 2.0).backward(first)
    (leaf * 2.0).backward(second)
    check_close("x.grad after two backward passes without zero_grad", leaf.grad, 2 * (first + second),
                alternatives=[(2 * second, "the gradient of the last backward pass only: a leaf's .grad must "
                                           "be added to (+=), not assigned, across backward calls.")])
    leaf.zero_grad()
    (leaf * 2.0).backward(first)
    check_close("x.grad after zero_grad() and one more backward pass", leaf.grad, 2 * first)


def test_leaf_gradients_are_private_arrays(ex, rng):
    a = ex.Tensor(signed(rng, (3, 4)), requires_grad=True)
    b = ex.Tensor(signed(rng, (3, 4)), requires_grad=True)
    g = random_upstream(rng, (3, 4))
    g_before = g.copy()
    (a + b).backward(g)
    a.grad[...] = 0  # an optimiser's zero_grad() does this
    check_close("b.grad after a.grad was zeroed in place", b.grad, g_before,
                alternatives=[(np.zeros_like(g), "zeros: a.grad and b.grad are the same array (aliasing). "
                               "Copy the gradient when a leaf's .grad is first set.")])
    check_unchanged("backward(G)", g_before, g)


def test_a_chain_of_10000_operations_backpropagates_without_recursion(ex):
    x = ex.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    limit = sys.getrecursionlimit()
    try:
        y.sum().backward()
    except RecursionError:
        raise AssertionError(
            "backward() on a chain of 10,000 operations hit Python's recursion limit "
            f"({limit}): build the topological order with an explicit stack (a list used as a stack), "
            "not with a recursive function.") from None
    check_close("dL/dx through 10,000 multiplications by 1.0001", x.grad, np.full(2, 1.0001 ** 10_000),
                rtol=1e-8)


# ----- no_grad, detach, errors -----

def test_no_grad_records_no_graph(ex, rng):
    x = ex.Tensor(signed(rng, (3,)), requires_grad=True)
    with ex.no_grad():
        y = (x * 2.0).exp().sum()
        with ex.no_grad():
            pass
        z = x + 1.0  # still inside the outer block after the inner one ended
    check_equal("requires_grad of results made inside no_grad()", [y.requires_grad, z.requires_grad],
                [False, False],
                "results computed inside `with no_grad():` have requires_grad True: no graph may be recorded there "
                "(no parents, no backward function), including after a nested no_grad block ends.")
    check_equal("a result made inside no_grad() keeps no parents and no backward function",
                len(y._parents) == 0 and y._backward is None, True, "inside no_grad() a result must keep no parents.")
    w = (x * 2.0).sum()
    check_equal("requires_grad of a result made after the no_grad block", w.requires_grad, True,
                "after the no_grad block ends, operations must record the graph again.")
    w.backward()
    check_close("dL/dx of sum(2 x) after a no_grad block", x.grad, np.full(3, 2.0))


def test_detach_stops_the_gradient(ex, rng):
    x = signed(rng, (3,))
    t = ex.Tensor(x.copy(), requires_grad=True)
    (t.detach() * t).sum().backward()
    check_close("dL/dx of sum(detach(x) * x)", t.grad, x,
                alternatives=[(2 * x, "2x: the gradient flowed through detach() too.")])


def test_backward_checks_the_upstream_gradient(ex, rng):
    t = ex.Tensor(signed(rng, (3,)), requires_grad=True)
    y = t * 2.0
    try:
        y.backward()  # three elements: dL/dy must be given
        raised = []
    except Exception as error:  # noqa: BLE001 - the kind of exception is the observation
        raised = [klass.__name__ for klass in type(error).__mro__]
    check_that("backward() without a gradient on a tensor of 3 elements", raised,
               lambda names: "ValueError" in names or "RuntimeError" in names,
               lambda names: "backward() without a gradient on a tensor of 3 elements must raise ValueError: dL/dy "
               "can only default to 1 for a one-element output." + (f" It raised {names[0]}." if names else ""))
    y.backward(np.ones(3))
    check_close("dL/dx of 2x with upstream ones", t.grad, np.full(3, 2.0))


def test_float32_stays_float32(ex, rng):
    x = ex.Tensor(signed(rng, (4, 3)).astype(np.float32), requires_grad=True)
    w = ex.Tensor(signed(rng, (3, 2)).astype(np.float32), requires_grad=True)
    out = ((x @ w) * 0.5 + 1.0).relu().sum() / 3.0
    check_that("a float32 expression with number constants", out.data, lambda data: data.dtype == np.float32,
               lambda data: f"float32 inputs with Python-number constants gave a {data.dtype} result: a constant "
               "became a float64 array. Make numbers Tensors of the other operand's dtype (float32 is twice as "
               "fast).")
    out.backward()
    check_that("x.grad and w.grad for float32 data", [x.grad, w.grad],
               lambda grads: all(grad.dtype == np.float32 for grad in grads), "gradients must keep the data's dtype.")


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
                           "use np.add.at(grad, index, g) so that every selection adds its share.")]}

    check_operation(ex, ref, rng, "x[[0, 2, 0, 0]]", lambda a: a[index], lambda a: a[torch.tensor(index)],
                    [x], alternatives=overwritten)


# ----- cross-entropy -----

def _torch_cross_entropy(logits, labels):
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
        check_close(f"cross_entropy of logits +-1e4 ({np.dtype(dtype).name})", loss.data, lambda: pytorch()[0],
                    **tol)
        check_close(f"dL/dlogits for logits +-1e4 ({np.dtype(dtype).name})", t.grad, lambda: pytorch()[1],
                    batch_size=n, **tol)


# ----- an end-to-end run -----

def test_a_small_mlp_trained_with_the_engine_fits_its_data(ex, pkg, rng):
    x = rng.standard_normal((64, 4))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR of signs: needs the hidden layer
    w1 = ex.Tensor(rng.standard_normal((4, 32)) * 0.5, requires_grad=True)
    b1 = ex.Tensor(np.zeros(32), requires_grad=True)
    w2 = ex.Tensor(rng.standard_normal((32, 2)) * 0.25, requires_grad=True)
    b2 = ex.Tensor(np.zeros(2), requires_grad=True)
    params = [w1, b1, w2, b2]
    for p in params:
        p.grad = np.zeros_like(p.data)
    optimizer = pkg.optim.SGD(params, lr=0.5, momentum=0.9)
    losses = []
    for _ in range(300):
        optimizer.zero_grad()
        loss = ex.cross_entropy((ex.Tensor(x) @ w1 + b1).relu() @ w2 + b2, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    check_that("the first and last loss of an MLP trained with the engine", [losses[0], losses[-1]],
               lambda pair: pair[1] < 0.2 * pair[0],
               lambda pair: f"an MLP trained with the engine and SGD went from loss {pair[0]:.3f} to {pair[1]:.3f} "
               "in 300 steps on 64 points: the gradients reaching the parameters are wrong or missing.")
