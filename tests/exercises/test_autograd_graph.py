"""Stretch exercise (autograd), the graph: gradients that accumulate, a topological order, no_grad, detach,
the checks of backward, dtypes, and a small MLP trained end to end with the engine.

The operations themselves are tested in test_autograd.py, whose helpers these tests share.
"""

import sys

import numpy as np

from grader.feedback.checks import check_close, check_equal, check_that, check_unchanged
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import random_upstream, torch_float64
from test_autograd import engine_gradients, finite_differences, signed


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


def pytorch_gradient(fn, x, g):
    """PyTorch's dL/dx of fn(x) for the upstream g, float64 (judge only)."""
    tx = torch_float64(x, requires_grad=True)
    fn(tx).backward(oracle.torch.as_tensor(g))
    return tx.grad.numpy()


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
    check_close_ref("x + x: dL/dx (a tensor used twice, the premise of this test)", twice,
                    lambda: pytorch_gradient(lambda t: t + t, x, g),
                alternatives=[(g, "the gradient of one use of x only: the second gradient that reached x replaced "
                               "the first. When a gradient arrives for a node that already has one, add it "
                               "(accumulate with +=), never assign it.")])
    _, (grad,) = engine_gradients(ex, fn, [x], g)

    def pytorch():
        return pytorch_gradient(fn, x, g)

    p, q = 3.0 * x, np.tanh(3.0 * x)
    check_close_ref("dL/dx through p = 3x, q = tanh(p), out = p * q (p feeds two nodes)", grad, pytorch,
                    alternatives=[
                        (3.0 * g * p * (1 - q * q), "the gradient through tanh(p) only: the second gradient that "
                         "reached p replaced the first. When a gradient arrives for a node that already has one, add "
                         "it (accumulate with +=), never assign it."),
                        (3.0 * g * q, "the gradient of the direct path p * q only, though a tensor used twice gets "
                         "both contributions (x + x passed): p passed its gradient on before tanh(p) had added its "
                         "share, so the topological order is wrong. A node must be processed only after every node "
                         "that uses it; in the depth-first search mark a node visited when you expand it, not when "
                         "you push it.")])


def test_every_node_appears_once_in_the_topological_order(ex, rng):
    x = ex.Tensor(signed(rng, (3,)), requires_grad=True)
    t = x
    for _ in range(12):
        t = (t + t) * 0.5  # t + t reaches t along two paths
    order = t._topological_order()
    nodes = 1 + 2 * 12

    def message(n):
        return (f"_topological_order() has {n} entries for a graph of {nodes} nodes (x, then twelve times t + t and "
                "a product by 0.5): " + (
                    "a node reached along two paths (t + t uses t twice) was expanded and appended more than once. "
                    "When a node is popped, skip it if it was already visited: each node appears once."
                    if n > nodes else "some nodes are missing; every tensor that requires a gradient and leads to "
                    "the output is listed."))

    check_that("the number of entries of _topological_order()", len(order), lambda n: n == nodes, message)


def leaves(*arrays):
    """float64 PyTorch leaves that require a gradient, and PyTorch's namespace (judge only)."""
    torch = oracle.torch
    return [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays], torch


def pytorch_accumulated(x, upstreams, zeroed_after=None):
    """PyTorch's x.grad after (2 x).backward(G) for each G in upstreams (x.grad zeroed after the first
    `zeroed_after` of them), judge only."""
    (leaf,), torch = leaves(x)
    for index, upstream in enumerate(upstreams):
        if index == zeroed_after:
            leaf.grad.zero_()
        (leaf * 2.0).backward(torch.tensor(upstream))
    return leaf.grad.numpy()


def test_gradients_accumulate_across_backward_calls(ex, rng):
    x = signed(rng, (3, 4))
    first, second = random_upstream(rng, (3, 4)), random_upstream(rng, (3, 4))
    leaf = ex.Tensor(x.copy(), requires_grad=True)
    (leaf * 2.0).backward(first)
    (leaf * 2.0).backward(second)
    check_close_ref("x.grad after two backward passes without zero_grad", leaf.grad,
                    lambda: pytorch_accumulated(x, [first, second]),
                alternatives=[(2 * second, "the gradient of the last backward pass only: a leaf's .grad must "
                                           "be added to (+=), not assigned, across backward calls.")])
    leaf.zero_grad()
    (leaf * 2.0).backward(first)
    check_close_ref("x.grad after zero_grad() and one more backward pass", leaf.grad,
                    lambda: pytorch_accumulated(x, [first, second, first], zeroed_after=2))


def test_leaf_gradients_are_private_arrays(ex, rng):
    xa, xb = signed(rng, (3, 4)), signed(rng, (3, 4))
    a = ex.Tensor(xa.copy(), requires_grad=True)
    b = ex.Tensor(xb.copy(), requires_grad=True)
    g = random_upstream(rng, (3, 4))
    g_before = g.copy()
    (a + b).backward(g)
    a.grad[...] = 0  # an optimiser's zero_grad() does this

    def pytorch():
        (ta, tb), torch = leaves(xa, xb)
        (ta + tb).backward(torch.tensor(g_before))
        ta.grad.zero_()
        return tb.grad.numpy()

    check_close_ref("b.grad after a.grad was zeroed in place", b.grad, pytorch,
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
    def pytorch():
        (leaf,), _ = leaves([1.0, -2.0])
        y = leaf
        for _ in range(10_000):
            y = y * 1.0001
        y.sum().backward()
        return leaf.grad.numpy()

    check_close_ref("dL/dx through 10,000 multiplications by 1.0001", x.grad, pytorch, rtol=1e-8)


# ----- no_grad, detach, errors -----

def test_no_grad_records_no_graph(ex, rng):
    data = signed(rng, (3,))
    x = ex.Tensor(data.copy(), requires_grad=True)
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
    def pytorch():
        (leaf,), torch = leaves(data)
        with torch.no_grad():
            (leaf * 2.0).exp().sum()
        (leaf * 2.0).sum().backward()
        return leaf.grad.numpy()

    check_close_ref("dL/dx of sum(2 x) after a no_grad block", x.grad, pytorch)


def test_detach_stops_the_gradient(ex, rng):
    x = signed(rng, (3,))
    t = ex.Tensor(x.copy(), requires_grad=True)
    (t.detach() * t).sum().backward()
    def pytorch():
        (leaf,), _ = leaves(x)
        (leaf.detach() * leaf).sum().backward()
        return leaf.grad.numpy()

    check_close_ref("dL/dx of sum(detach(x) * x)", t.grad, pytorch,
                alternatives=[(2 * x, "2x: the gradient flowed through detach() too.")])


def test_backward_checks_the_upstream_gradient(ex, rng):
    data = signed(rng, (3,))
    t = ex.Tensor(data.copy(), requires_grad=True)
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
    check_close_ref("dL/dx of 2x with upstream ones", t.grad, lambda: pytorch_accumulated(data, [np.ones(3)]))


def test_float32_stays_float32(ex, rng):
    xs, ws = signed(rng, (4, 3)).astype(np.float32), signed(rng, (3, 2)).astype(np.float32)
    x = ex.Tensor(xs.copy(), requires_grad=True)
    w = ex.Tensor(ws.copy(), requires_grad=True)
    out = ((x @ w) * 0.5 + 1.0).relu().sum() / 3.0
    check_that("a float32 expression with number constants", out.data, lambda data: data.dtype == np.float32,
               lambda data: f"float32 inputs with Python-number constants gave a {data.dtype} result: a constant "
               "became a float64 array. Make numbers Tensors of the other operand's dtype (float32 is twice as "
               "fast).")
    out.backward()
    check_that("x.grad and w.grad for float32 data", [x.grad, w.grad],
               lambda grads: all(grad.dtype == np.float32 for grad in grads), "gradients must keep the data's dtype.")
    check_close_ref("the value of sum(relu(0.5 x @ w + 1)) / 3 in float32", out.data,
                    lambda: (((oracle.torch.tensor(xs, dtype=oracle.torch.float64)
                               @ oracle.torch.tensor(ws, dtype=oracle.torch.float64)) * 0.5 + 1.0).relu().sum()
                             / 3.0).item(), rtol=1e-5)


# ----- an end-to-end run -----

def test_a_small_mlp_trained_with_the_engine_fits_its_data(ex, pkg, rng):
    x = rng.standard_normal((64, 4))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR of signs: needs the hidden layer
    w1 = ex.Tensor(rng.standard_normal((4, 32)) * 0.5, requires_grad=True)
    b1 = ex.Tensor(np.zeros(32), requires_grad=True)
    w2 = ex.Tensor(rng.standard_normal((32, 2)) * 0.25, requires_grad=True)
    b2 = ex.Tensor(np.zeros(2), requires_grad=True)
    params = [w1, b1, w2, b2]
    start = [p.data.copy() for p in params]
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

    def mlp_loss(weights):  # the judge's loss of the MLP with these weights (ex is the reference's engine there)
        try:
            w1, b1, w2, b2 = (ex.Tensor(np.asarray(w, dtype=np.float64)) for w in weights)
            return float(ex.cross_entropy((ex.Tensor(x) @ w1 + b1).relu() @ w2 + b2, y).item())
        except (TypeError, ValueError, IndexError):  # weights of other shapes
            return float("nan")

    check_that("the trained weights, through the loss the judge computes from them", [p.data for p in params],
               lambda weights: mlp_loss(weights) < 0.2 * mlp_loss(start),
               lambda weights: f"the loss of the trained weights is {mlp_loss(weights):.3f}, from {mlp_loss(start):.3f}"
               " at the start: the gradients reaching the parameters are wrong or missing.")
