"""Exercise 5 (network), layers used more than once: twice in one container, across nested containers, and
a container used twice (each use backpropagates with the memory of its own forward).

As in test_network.py, expected values come from finite differences and PyTorch, computed by the judge at
test time (closed forms only describe known mistakes), and the layers inside the networks are the reference ones.
"""

import numpy as np
import pytest

from grader.feedback.checks import check_equal
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import check_layer_backward, random_upstream
from test_network import check_names, linear, tensors


RANDOM_SCALE_SEED = 7


def random_scale_layer(pkg):
    """y = x * r with a fresh random r (one factor per feature) drawn on every forward, as dropout draws a
    fresh mask: backward must use the r of the forward it belongs to. Its draws come from a generator of
    its own, so they are the same in the learner's and the reference's runs."""

    class RandomScale(pkg.layers.Layer):
        def __init__(self):
            super().__init__()
            self.draws = np.random.default_rng(RANDOM_SCALE_SEED)

        def forward(self, x):
            self.r = self.draws.standard_normal(x.shape[1])
            return x * self.r

        def backward(self, grad_out):
            return grad_out * self.r

    return RandomScale()


def random_scale_factors(count, features):
    """The first `count` factors a RandomScale layer draws (judge only)."""
    draws = np.random.default_rng(RANDOM_SCALE_SEED)
    return [draws.standard_normal(features) for _ in range(count)]


# ----------------------------------------------------------------------------------------------------
# A layer used twice, in one container


def shared_linear_gradients(w, b, x, grad_out):
    """Closed-form gradients of y = tanh(x W + b) W + b, one Linear used twice, split by use."""
    h = np.tanh(x @ w + b)
    second_w, second_b = h.T @ grad_out, grad_out.sum(axis=0)
    da = (grad_out @ w.T) * (1.0 - h ** 2)
    first_w, first_b = x.T @ da, da.sum(axis=0)
    return {"first": (first_w, first_b), "second": (second_w, second_b), "stale": h.T @ grad_out + h.T @ da}


STALE_CACHE = ("what the first use's backward gives with the input cached by the second forward: a layer "
               "remembers only its last forward, so the second use overwrote the first one's input. Remember "
               "each use's state right after its forward, as a copy made then (dict(vars(layer)), a new "
               "dictionary; not vars(layer) itself, which changes with the layer, nor a generator read later: "
               "stale), and recall it right before that use's "
               "backward, overwriting the layer's current attributes (setdefault, or a test for a missing name, "
               "keeps the newer value).")


@pytest.mark.fact
def test_a_layer_used_twice_lists_its_parameters_once(ex, pkg, rng):
    shared = linear(pkg, rng, 4, 4)
    net = ex.Sequential(shared, pkg.activations.Tanh(), shared)
    check_names(net, "Sequential(lin, Tanh(), lin)", ["0.W", "0.b"],
                "a shared layer's parameters are listed once (an optimiser would otherwise update them twice "
                "per step).")


def test_a_linear_used_twice_receives_both_contributions(ex, pkg, ref, rng):
    n = 5
    shared = linear(pkg, rng, 4, 4)
    net = ex.Sequential(shared, pkg.activations.Tanh(), shared)
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 4))
    w, b = shared.W.data.copy(), shared.b.data.copy()
    first_only = ("only the contribution of the first use of the shared layer: the second use's gradient "
                  "was lost (was p.grad zeroed or assigned between the two backward calls, or the Parameters "
                  "replaced by copies, e.g. a deepcopy of the state put back by recall?). The gradient of a "
                  "shared parameter is the sum over its uses.")
    second_only = ("only the contribution of the second use of the shared layer: call backward once per use, "
                   "so that both contributions are added into p.grad.")

    def alternatives(name):
        parts = shared_linear_gradients(w, b, x, grad_out)
        if name == "0.W":
            return [(parts["first"][0], first_only), (parts["second"][0], second_only),
                    (parts["stale"], STALE_CACHE)]
        return [(parts["first"][1], first_only), (parts["second"][1], second_only)]

    check_layer_backward(ref, net, x, grad_out, layer_name="Sequential(lin, Tanh(), lin)", batch_size=n,
                         alternatives={"0.W": lambda: alternatives("0.W"), "0.b": lambda: alternatives("0.b")})
    net.zero_grad()
    net.forward(x)
    net.backward(grad_out)
    net.backward(grad_out)  # a second call after one forward
    parts = lambda: shared_linear_gradients(w, b, x, grad_out)  # noqa: E731
    check_close_ref("W.grad of the shared layer after a second Sequential(lin, Tanh(), lin).backward", shared.W.grad,
                    lambda: 2 * (parts()["first"][0] + parts()["second"][0]), batch_size=n, alternatives=lambda: [(
                        2 * parts()["first"][0] + parts()["second"][0] + x.T @ grad_out, "the second call's last "
                        "use backpropagated with the state of the first use: recall every use's state before its "
                        "backward, the last layer's too (after one backward call it holds its first use's).")])


def test_an_activation_used_twice_backpropagates_through_each_use(ex, pkg, ref, rng):
    # One ReLU instance after both Linear layers, as in `relu = ReLU(); Sequential(l1, relu, l2, relu)`.
    n = 6
    first, second = linear(pkg, rng, 4, 4), linear(pkg, rng, 4, 4)
    relu = pkg.activations.ReLU()
    net = ex.Sequential(first, relu, second, relu)
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 4))
    w1, b1, w2, b2 = (a.copy() for a in (first.W.data, first.b.data, second.W.data, second.b.data))
    stale = ("what you get when the ReLU's first use backpropagates with the mask of its second use: a layer "
             "remembers only its last forward. Remember each use's state right after its forward and recall "
             "it right before that use's backward.")

    def da1_stale():
        # With the mask of the second use (a2 > 0) applied at the first use as well.
        a2 = np.maximum(x @ w1 + b1, 0) @ w2 + b2
        return ((grad_out * (a2 > 0)) @ w2.T) * (a2 > 0)

    check_layer_backward(ref, net, x, grad_out, layer_name="Sequential(lin, relu, lin, relu)", batch_size=n,
                         alternatives={"x": lambda: [(da1_stale() @ w1.T, stale)],
                                       "0.W": lambda: [(x.T @ da1_stale(), stale)],
                                       "0.b": lambda: [(da1_stale().sum(axis=0), stale)]})


def test_a_random_layer_used_twice_backpropagates_with_the_draws_of_its_forward(ex, pkg, rng):
    # A random layer (dropout) draws anew on every forward: running forward again before backward, to
    # rebuild a cache, makes backward use other draws than the forward that produced the output.
    n = 5
    first, second = linear(pkg, rng, 4, 4), linear(pkg, rng, 4, 4)
    noise = random_scale_layer(pkg)
    net = ex.Sequential(first, noise, second, noise)
    params = [a.copy() for a in (first.W.data, first.b.data, second.W.data, second.b.data)]
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 4))

    def pytorch(which, draws=(0, 1)):
        torch = oracle.torch
        factors = random_scale_factors(4, 4)
        r1, r2 = (torch.tensor(factors[k]) for k in draws)
        tx, tw1, tb1, tw2, tb2 = tensors(x, *params)
        ty = ((((tx @ tw1 + tb1) * r1) @ tw2 + tb2) * r2)
        if which == "y":
            return ty.detach().numpy()
        ty.backward(torch.tensor(grad_out))
        return {"x": tx, "W1": tw1, "W2": tw2}[which].grad.numpy()

    redrawn = ("the gradient through new random factors, not those of the forward that produced the output: "
               "forward ran again before backward, and the random layer drew new ones (dropout would draw a "
               "new mask). Do not run forward again to rebuild a layer's cache; recall the state each use's "
               "forward left (remember it right after that forward).")
    net.zero_grad()
    check_close_ref("Sequential(l1, noise, l2, noise).forward", net.forward(x), lambda: pytorch("y"), batch_size=n)
    grad_x = net.backward(grad_out)
    # Running forward again before the backward of the second use, then of the first, draws factors 3 and 4.
    check_close_ref("Sequential(l1, noise, l2, noise).backward: dL/dx", grad_x, lambda: pytorch("x"), batch_size=n,
                    alternatives=lambda: [(pytorch("x", draws=(3, 2)), redrawn)])
    check_close_ref("Sequential(l1, noise, l2, noise).backward: dL/dW of l1", first.W.grad, lambda: pytorch("W1"),
                    batch_size=n, alternatives=lambda: [(pytorch("W1", draws=(3, 2)), redrawn)])
    check_close_ref("Sequential(l1, noise, l2, noise).backward: dL/dW of l2", second.W.grad, lambda: pytorch("W2"),
                    batch_size=n, alternatives=lambda: [(pytorch("W2", draws=(3, 2)), redrawn)])


# ----------------------------------------------------------------------------------------------------
# A layer shared anywhere in one network: across nested containers


NESTED = "Sequential(l1, Tanh(), Residual(Sequential(l1, Tanh())), l2)"


def nested_network(ex, pkg, rng):
    """Sequential(l1, Tanh(), Residual(Sequential(l1, Tanh())), l2): l1 used in two containers."""
    l1, l2 = linear(pkg, rng, 4, 4), linear(pkg, rng, 4, 3)
    net = ex.Sequential(l1, pkg.activations.Tanh(), ex.Residual(ex.Sequential(l1, pkg.activations.Tanh())), l2)
    return net, l1, l2


def nested_pytorch(x, grad_out, w1, b1, w2, b2):
    """PyTorch's output and gradients for NESTED, with l1's contributions also split by use (judge only):
    "stale W1" is what the outer use gives with the input cached by the inner use (h1 instead of x)."""
    torch = oracle.torch
    tx, tw_outer, tb_outer, tw_inner, tb_inner, tw2, tb2 = tensors(x, w1, b1, w1, b1, w2, b2)
    z_outer = tx @ tw_outer + tb_outer
    z_outer.retain_grad()
    h1 = torch.tanh(z_outer)
    h2 = h1 + torch.tanh(h1 @ tw_inner + tb_inner)
    ty = h2 @ tw2 + tb2
    ty.backward(torch.tensor(grad_out))
    h1, dz_outer = h1.detach().numpy(), z_outer.grad.numpy()
    return {"y": ty.detach().numpy(), "x": tx.grad.numpy(),
            "W1": tw_outer.grad.numpy() + tw_inner.grad.numpy(), "b1": tb_outer.grad.numpy() + tb_inner.grad.numpy(),
            "W2": tw2.grad.numpy(), "b2": tb2.grad.numpy(),
            "outer W1": tw_outer.grad.numpy(), "inner W1": tw_inner.grad.numpy(),
            "outer b1": tb_outer.grad.numpy(), "inner b1": tb_inner.grad.numpy(),
            "stale W1": h1.T @ dz_outer + tw_inner.grad.numpy()}


ACROSS_CONTAINERS = (
    "what the outer use of l1 gives with the input cached by its inner use (inside the Residual): a layer "
    "shared between two containers keeps only its latest forward, and restoring only the layers repeated "
    "in one Sequential's own list misses a use in another container. Remember each use's state right after "
    "its forward and recall it right before its backward, for every layer, in every Sequential.")


def nested_alternatives(expected, name):
    """Known-wrong values of l1's gradient `name` ("W1" or "b1") in NESTED (judge only)."""
    outer_only = ("only the contribution of l1's outer use: the inner use's gradient was lost (was p.grad "
                  "zeroed or assigned between the backward calls?). The gradient of a shared parameter is the "
                  "sum over its uses, wherever they are.")
    inner_only = ("only the contribution of l1's inner use (inside the Residual): the outer use's gradient "
                  "was lost. The gradient of a shared parameter is the sum over its uses, wherever they are.")
    found = [(expected[f"outer {name}"], outer_only), (expected[f"inner {name}"], inner_only)]
    if name == "W1":
        found.append((expected["stale W1"], ACROSS_CONTAINERS))
    return found


def test_a_layer_shared_between_nested_containers_matches_pytorch(ex, pkg, rng):
    n = 6
    net, l1, l2 = nested_network(ex, pkg, rng)
    params = [p.data.copy() for p in (l1.W, l1.b, l2.W, l2.b)]
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 3))
    pytorch = lambda: nested_pytorch(x, grad_out, *params)  # noqa: E731
    net.zero_grad()
    check_close_ref(f"{NESTED}.forward", net.forward(x), lambda: pytorch()["y"], batch_size=n)
    grad_x = net.backward(grad_out)
    check_close_ref(f"{NESTED}.backward: dL/dx", grad_x, lambda: pytorch()["x"], batch_size=n)
    check_close_ref(f"{NESTED}.backward: dL/dW of the shared l1", l1.W.grad, lambda: pytorch()["W1"],
                    batch_size=n, alternatives=lambda: nested_alternatives(pytorch(), "W1"))
    check_close_ref(f"{NESTED}.backward: dL/db of the shared l1", l1.b.grad, lambda: pytorch()["b1"],
                    batch_size=n, alternatives=lambda: nested_alternatives(pytorch(), "b1"))
    check_close_ref(f"{NESTED}.backward: dL/dW of l2", l2.W.grad, lambda: pytorch()["W2"], batch_size=n)
    check_close_ref(f"{NESTED}.backward: dL/db of l2", l2.b.grad, lambda: pytorch()["b2"], batch_size=n)


def test_a_second_backward_call_gives_the_same_result_and_adds_the_gradients_again(ex, pkg, rng):
    n = 5
    net, l1, l2 = nested_network(ex, pkg, rng)
    params = [p.data.copy() for p in (l1.W, l1.b, l2.W, l2.b)]
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 3))
    pytorch = lambda: nested_pytorch(x, grad_out, *params)  # noqa: E731
    net.zero_grad()
    net.forward(x)
    net.backward(grad_out)
    again, raised = None, None
    try:
        again = net.backward(grad_out)
    except Exception as error:  # noqa: BLE001 - what the second call raised is the observation
        raised = f"{type(error).__name__}: {error}"
    check_equal("what a second Sequential.backward call after one forward raised", raised, None, lambda raised: (
        f"calling {NESTED}.backward a second time after one forward raised {raised}. Backward must not "
        "consume what forward remembered (do not pop self._states): a second call finds the same states, "
        "returns the same dL/dx and adds the same parameter gradients again."))
    once = ("the gradient of one backward call: after one forward and two backward calls each parameter "
            "gradient holds twice the contribution (layers add into p.grad; nothing zeroes it in between).")
    check_close_ref(f"{NESTED}.backward called a second time: dL/dx", again, lambda: pytorch()["x"], batch_size=n)
    check_close_ref(f"dL/dW of the shared l1 after two backward calls of {NESTED}", l1.W.grad,
                    lambda: 2.0 * pytorch()["W1"], batch_size=n, alternatives=lambda: [(pytorch()["W1"], once)])
    check_close_ref(f"dL/dW of l2 after two backward calls of {NESTED}", l2.W.grad, lambda: 2.0 * pytorch()["W2"],
                    batch_size=n, alternatives=lambda: [(pytorch()["W2"], once)])


SHARED_BLOCK = "Sequential(r, r, l2) with r = Residual(Sequential(l1, Tanh()))"


def shared_block_stale(x, grad_out, w1, b1, w2):
    """SHARED_BLOCK's gradients when r's first use backpropagates with the memory of its second use."""
    t1 = np.tanh(x @ w1 + b1)
    u1 = x + t1
    t2 = np.tanh(u1 @ w1 + b1)
    g2 = grad_out @ w2.T
    da2 = g2 * (1.0 - t2 ** 2)
    g1 = g2 + da2 @ w1.T
    da1 = g1 * (1.0 - t2 ** 2)  # the second use's tanh' where the first use's belongs
    return {"x": g1 + da1 @ w1.T, "W1": u1.T @ da2 + u1.T @ da1, "b1": da2.sum(axis=0) + da1.sum(axis=0)}


def test_a_container_used_twice_backpropagates_each_use_with_its_own_memory(ex, pkg, rng):
    n = 6
    l1, l2 = linear(pkg, rng, 4, 4), linear(pkg, rng, 4, 3)
    block = ex.Residual(ex.Sequential(l1, pkg.activations.Tanh()))
    net = ex.Sequential(block, block, l2)
    w1, b1, w2, b2 = (p.data.copy() for p in (l1.W, l1.b, l2.W, l2.b))
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 3))

    def pytorch(which):
        torch = oracle.torch
        tx, tw1, tb1, tw2, tb2 = tensors(x, w1, b1, w2, b2)
        u1 = tx + torch.tanh(tx @ tw1 + tb1)
        ty = (u1 + torch.tanh(u1 @ tw1 + tb1)) @ tw2 + tb2
        if which == "y":
            return ty.detach().numpy()
        ty.backward(torch.tensor(grad_out))
        return {"x": tx, "W1": tw1, "b1": tb1, "W2": tw2}[which].grad.numpy()

    stale = ("what r's first use gives when it backpropagates with the memory of r's second use: the memory "
             "of a container lives in the layers inside it. remember(layer) must copy the state of the layer "
             "and of every layer inside it (the layers within it: layers_within), and Sequential.forward must start a new "
             "self._states list on every call (an enclosing container still holds the old one; clearing it "
             "in place changes what was remembered).")
    stale_value = lambda which: lambda: [(shared_block_stale(x, grad_out, w1, b1, w2)[which], stale)]  # noqa: E731
    net.zero_grad()
    check_close_ref(f"{SHARED_BLOCK}: forward", net.forward(x), lambda: pytorch("y"), batch_size=n)
    grad_x = net.backward(grad_out)
    check_close_ref(f"{SHARED_BLOCK}: dL/dx", grad_x, lambda: pytorch("x"), batch_size=n,
                    alternatives=stale_value("x"))
    check_close_ref(f"{SHARED_BLOCK}: dL/dW of l1", l1.W.grad, lambda: pytorch("W1"), batch_size=n,
                    alternatives=stale_value("W1"))
    check_close_ref(f"{SHARED_BLOCK}: dL/db of l1", l1.b.grad, lambda: pytorch("b1"), batch_size=n,
                    alternatives=stale_value("b1"))
    check_close_ref(f"{SHARED_BLOCK}: dL/dW of l2", l2.W.grad, lambda: pytorch("W2"), batch_size=n)


@pytest.mark.fact
def test_parameters_lists_each_shared_parameter_once(ex, pkg, rng):
    net, l1, l2 = nested_network(ex, pkg, rng)
    known = [l1.W, l1.b, l2.W, l2.b]
    listed = net.parameters()
    positions = [next((k for k, p in enumerate(known) if p is q), -1) for q in listed]
    check_equal(f"{NESTED}.parameters(), as positions in [l1.W, l1.b, l2.W, l2.b]", positions, [0, 1, 2, 3],
                lambda positions: (
                    f"{NESTED}.parameters() lists {positions} (positions in [l1.W, l1.b, l2.W, l2.b], -1 for "
                    "an object that is none of them). Each parameter must be listed once, as the Parameter "
                    "object itself: an optimiser updates every listed parameter, so a shared one listed twice "
                    "is updated twice per step. Inherit parameters() from Layer (it lists named_parameters(), "
                    "each once) instead of collecting every sub-layer's parameters()."))
