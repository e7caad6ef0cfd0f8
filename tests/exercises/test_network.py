"""Exercise 5 (network): Sequential and Residual.

Expected values come from finite differences, PyTorch and closed forms, computed by the judge at test time.
The layers inside the networks are the reference ones (pkg.layers, pkg.activations), so only the way the
network chains them is under test.
"""

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_raises, check_unchanged
from grader.feedback.oracle import torch
from helpers import check_layer_backward, own_rng, random_upstream


def linear(pkg, rng, n_in, n_out):
    """A float64 reference Linear whose weights and non-zero bias come from the test's generator."""
    layer = pkg.layers.Linear(n_in, n_out, rng=own_rng())
    layer.W.data[...] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
    layer.b.data[...] = rng.standard_normal(n_out)
    return layer


def mlp(ex, pkg, rng):
    """Linear(5, 4) - ReLU - Linear(4, 3) - Tanh."""
    return ex.Sequential(linear(pkg, rng, 5, 4), pkg.activations.ReLU(), linear(pkg, rng, 4, 3),
                         pkg.activations.Tanh())


def scale_layer(pkg, k, log):
    """y = k x with backward k g; records each call in `log` so the order of calls can be checked."""

    class Scale(pkg.layers.Layer):
        def forward(self, x):
            log.append(("forward", k))
            return k * x

        def backward(self, grad_out):
            log.append(("backward", k))
            return k * grad_out

    return Scale()


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


def tensors(*arrays):
    """float64 PyTorch leaves that require a gradient (judge only)."""
    return [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]


def check_names(net, description, expected, advice):
    """net.named_parameters() must give exactly the names `expected`, in order (`advice` says how)."""
    __tracebackhide__ = True
    names = [name for name, _ in net.named_parameters()]
    check_equal(f"{description}.named_parameters()", names, expected,
                lambda names: f"{description}.named_parameters() gave {names}; expected {expected}: {advice}")


# ----------------------------------------------------------------------------------------------------
# Sequential


def test_sequential_forward_feeds_each_layer_into_the_next(ex, pkg, rng):
    log = []
    net = ex.Sequential(scale_layer(pkg, 2.0, log), scale_layer(pkg, 3.0, log), scale_layer(pkg, 5.0, log))
    x = rng.standard_normal((4, 3))
    check_close("Sequential(2x, 3x, 5x).forward", net.forward(x), lambda: 30.0 * x, alternatives=lambda: [
        (5.0 * x, "5 x, the last layer applied to the input alone: feed each layer's output into the "
                  "next layer (x = layer.forward(x)) and return the last output."),
        (2.0 * x, "2 x, the first layer applied to the input alone: feed each layer's output into the "
                  "next layer and return the last output."),
        (x, "the input unchanged: apply every layer, each to the previous layer's output."),
    ])
    check_close("Sequential(2x, 3x, 5x)(x), calling the network", net(x), lambda: 30.0 * x)


def test_sequential_backward_visits_the_layers_in_reverse_and_chains_their_gradients(ex, pkg, rng):
    log = []
    net = ex.Sequential(scale_layer(pkg, 2.0, log), scale_layer(pkg, 3.0, log), scale_layer(pkg, 5.0, log))
    x = rng.standard_normal((4, 3))
    grad_out = random_upstream(rng, (4, 3))
    net.forward(x)
    del log[:]
    grad_x = net.backward(grad_out)
    order = [k for kind, k in log if kind == "backward"]
    check_equal("the order of the layers' backward calls", order, [5.0, 3.0, 2.0], lambda order: (
        f"Sequential.backward called the backward of the layers y = 2x, 3x, 5x in the order "
        f"{[int(k) for k in order]}; it must walk them in reverse order, last layer first ([5, 3, 2]): the "
        "last layer is the one that receives dL/dy."))
    check_close("Sequential(2x, 3x, 5x).backward (dL/dx)", grad_x, lambda: 30.0 * grad_out, alternatives=lambda: [
        (2.0 * grad_out, "2 dL/dy, the first layer's backward of grad_out alone: each layer's backward must "
                         "receive the gradient returned by the layer after it (g = layer.backward(g))."),
        (5.0 * grad_out, "5 dL/dy, the last layer's backward alone: each layer's backward must receive the "
                         "gradient returned by the layer after it, and the first layer's result is returned."),
        (grad_out, "grad_out unchanged: pass it backward through every layer and return the result."),
    ])


def test_sequential_backward_matches_finite_differences(ex, pkg, ref, rng):
    n = 6
    net = mlp(ex, pkg, rng)
    x = rng.standard_normal((n, 5))
    check_layer_backward(ref, net, x, random_upstream(rng, (n, 3)), layer_name="Sequential", batch_size=n)


def test_sequential_matches_pytorch(ex, pkg, rng):
    n = 8
    net = mlp(ex, pkg, rng)
    first, second = net.layers[0], net.layers[2]
    params = [first.W.data.copy(), first.b.data.copy(), second.W.data.copy(), second.b.data.copy()]
    x = rng.standard_normal((n, 5))
    grad_out = random_upstream(rng, (n, 3))

    def pytorch(which):
        tx, tw1, tb1, tw2, tb2 = tensors(x, *params)
        ty = torch.tanh(torch.relu(tx @ tw1 + tb1) @ tw2 + tb2)
        if which == "y":
            return ty.detach().numpy()
        ty.backward(torch.tensor(grad_out))
        return {"x": tx, "0.W": tw1, "0.b": tb1, "2.W": tw2, "2.b": tb2}[which].grad.numpy()

    net.zero_grad()
    y = net.forward(x)
    check_close("Sequential(Linear, ReLU, Linear, Tanh).forward", y, lambda: pytorch("y"), batch_size=n)
    grad_x = net.backward(grad_out)
    check_close("Sequential.backward: dL/dx", grad_x, lambda: pytorch("x"), batch_size=n)
    for name, p in (("0.W", first.W), ("0.b", first.b), ("2.W", second.W), ("2.b", second.b)):
        check_close(f"Sequential.backward: dL/d{name}", p.grad, lambda name=name: pytorch(name), batch_size=n)


@pytest.mark.fact
def test_sequential_keeps_its_layers_and_names_parameters_by_position(ex, pkg, rng):
    layers = [linear(pkg, rng, 5, 4), pkg.activations.ReLU(), linear(pkg, rng, 4, 3)]
    net = ex.Sequential(*layers)
    kept = getattr(net, "layers", None)
    check_equal("Sequential(*layers).layers is a list of the given layer objects, in order",
                isinstance(kept, list) and len(kept) == 3 and all(a is b for a, b in zip(kept, layers)), True,
                "Sequential(*layers) must keep the layer objects themselves, in order, in the list attribute "
                "self.layers (the training code and the parameter names rely on it).")
    check_names(net, "Sequential(Linear, ReLU, Linear)", ["0.W", "0.b", "2.W", "2.b"],
                "keep the layers in a list attribute so that the base class names them by position.")


def test_an_empty_sequential_is_the_identity(ex, rng):
    net = ex.Sequential()
    x = rng.standard_normal((3, 2))
    grad_out = random_upstream(rng, (3, 2))
    check_close("Sequential().forward", net.forward(x), lambda: x)
    check_close("Sequential().backward", net.backward(grad_out), lambda: grad_out)


def test_sequential_does_not_modify_its_input_or_upstream_gradient(ex, pkg, rng):
    net = mlp(ex, pkg, rng)
    x = rng.standard_normal((4, 5))
    grad_out = random_upstream(rng, (4, 3))
    x_before, grad_before = x.copy(), grad_out.copy()
    net.forward(x)
    net.backward(grad_out)
    check_unchanged("Sequential.forward", x_before, x)
    check_unchanged("Sequential.backward", grad_before, grad_out)


@pytest.mark.fact
def test_train_and_eval_reach_every_nested_layer(ex, pkg, rng):
    inner = ex.Sequential(linear(pkg, rng, 4, 4), pkg.activations.ReLU())
    residual = ex.Residual(inner)
    net = ex.Sequential(linear(pkg, rng, 5, 4), residual, pkg.activations.Tanh())
    everything = [net, net.layers[0], residual, inner, inner.layers[0], inner.layers[1], net.layers[2]]
    net.eval()
    check_equal("training flags after net.eval()", [getattr(layer, "training", None) for layer in everything],
                [False] * len(everything), lambda flags: (
                    f"after net.eval() the training flags of the network and its nested layers are {flags}: "
                    "every layer must be reachable through the attributes self.layers (a list) and self.block, "
                    "and must call Layer.__init__ (super().__init__())."))
    net.train()
    check_equal("training flags after net.train()", [getattr(layer, "training", None) for layer in everything],
                [True] * len(everything), lambda flags: f"after net.train() the training flags are {flags}.")


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
               "each use's state right after its forward, as a copy (dict(vars(layer)), a new dictionary; not "
               "vars(layer) itself, which changes with the layer), and recall it right before that use's "
               "backward.")


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
                  "was lost (was p.grad zeroed or assigned between the two backward calls?). The gradient of "
                  "a shared parameter is the sum over its uses.")
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
    check_close("Sequential(l1, noise, l2, noise).forward", net.forward(x), lambda: pytorch("y"), batch_size=n)
    grad_x = net.backward(grad_out)
    # Running forward again before the backward of the second use, then of the first, draws factors 3 and 4.
    check_close("Sequential(l1, noise, l2, noise).backward: dL/dx", grad_x, lambda: pytorch("x"), batch_size=n,
                alternatives=lambda: [(pytorch("x", draws=(3, 2)), redrawn)])
    check_close("Sequential(l1, noise, l2, noise).backward: dL/dW of l1", first.W.grad, lambda: pytorch("W1"),
                batch_size=n, alternatives=lambda: [(pytorch("W1", draws=(3, 2)), redrawn)])
    check_close("Sequential(l1, noise, l2, noise).backward: dL/dW of l2", second.W.grad, lambda: pytorch("W2"),
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
    check_close(f"{NESTED}.forward", net.forward(x), lambda: pytorch()["y"], batch_size=n)
    grad_x = net.backward(grad_out)
    check_close(f"{NESTED}.backward: dL/dx", grad_x, lambda: pytorch()["x"], batch_size=n)
    check_close(f"{NESTED}.backward: dL/dW of the shared l1", l1.W.grad, lambda: pytorch()["W1"],
                batch_size=n, alternatives=lambda: nested_alternatives(pytorch(), "W1"))
    check_close(f"{NESTED}.backward: dL/db of the shared l1", l1.b.grad, lambda: pytorch()["b1"],
                batch_size=n, alternatives=lambda: nested_alternatives(pytorch(), "b1"))
    check_close(f"{NESTED}.backward: dL/dW of l2", l2.W.grad, lambda: pytorch()["W2"], batch_size=n)
    check_close(f"{NESTED}.backward: dL/db of l2", l2.b.grad, lambda: pytorch()["b2"], batch_size=n)


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
    check_close(f"{NESTED}.backward called a second time: dL/dx", again, lambda: pytorch()["x"], batch_size=n)
    check_close(f"dL/dW of the shared l1 after two backward calls of {NESTED}", l1.W.grad,
                lambda: 2.0 * pytorch()["W1"], batch_size=n, alternatives=lambda: [(pytorch()["W1"], once)])
    check_close(f"dL/dW of l2 after two backward calls of {NESTED}", l2.W.grad, lambda: 2.0 * pytorch()["W2"],
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
        tx, tw1, tb1, tw2, tb2 = tensors(x, w1, b1, w2, b2)
        u1 = tx + torch.tanh(tx @ tw1 + tb1)
        ty = (u1 + torch.tanh(u1 @ tw1 + tb1)) @ tw2 + tb2
        if which == "y":
            return ty.detach().numpy()
        ty.backward(torch.tensor(grad_out))
        return {"x": tx, "W1": tw1, "b1": tb1, "W2": tw2}[which].grad.numpy()

    stale = ("what r's first use gives when it backpropagates with the memory of r's second use: the memory "
             "of a container lives in the layers inside it. remember(layer) must copy the state of the layer "
             "and of every layer inside it (layers_within), and Sequential.forward must start a new "
             "self._states list on every call (an enclosing container still holds the old one; clearing it "
             "in place changes what was remembered).")
    stale_value = lambda which: lambda: [(shared_block_stale(x, grad_out, w1, b1, w2)[which], stale)]  # noqa: E731
    net.zero_grad()
    check_close(f"{SHARED_BLOCK}: forward", net.forward(x), lambda: pytorch("y"), batch_size=n)
    grad_x = net.backward(grad_out)
    check_close(f"{SHARED_BLOCK}: dL/dx", grad_x, lambda: pytorch("x"), batch_size=n,
                alternatives=stale_value("x"))
    check_close(f"{SHARED_BLOCK}: dL/dW of l1", l1.W.grad, lambda: pytorch("W1"), batch_size=n,
                alternatives=stale_value("W1"))
    check_close(f"{SHARED_BLOCK}: dL/db of l1", l1.b.grad, lambda: pytorch("b1"), batch_size=n,
                alternatives=stale_value("b1"))
    check_close(f"{SHARED_BLOCK}: dL/dW of l2", l2.W.grad, lambda: pytorch("W2"), batch_size=n)


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


# ----------------------------------------------------------------------------------------------------
# Residual


def test_residual_forward_adds_the_input_to_the_block_output(ex, pkg, rng):
    block = linear(pkg, rng, 4, 4)
    x = rng.standard_normal((5, 4))
    w, b = block.W.data.copy(), block.b.data.copy()
    check_close("Residual(Linear(4, 4)).forward", ex.Residual(block).forward(x), lambda: x + x @ w + b,
                alternatives=lambda: [(x @ w + b, "the block's output alone: the identity path is missing, "
                                                  "return x + block(x).")])


@pytest.mark.fact
def test_residual_refuses_a_block_that_changes_the_shape(ex, pkg, rng):
    net = ex.Residual(linear(pkg, rng, 4, 3))
    x = rng.standard_normal((5, 4))
    check_raises("Residual(Linear(4, 3)).forward", ValueError, lambda: net.forward(x),
                 message="Residual(Linear(4, 3)).forward should raise a ValueError naming both shapes: x + "
                         "block(x) needs the block to keep the shape, and NumPy would broadcast (or fail with "
                         "a message about broadcasting) instead of saying so.")


def test_residual_backward_sums_the_identity_and_the_block_paths(ex, pkg, ref, rng):
    n = 5
    block = linear(pkg, rng, 4, 4)
    net = ex.Residual(block)
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 4))
    w = block.W.data.copy()
    check_layer_backward(ref, net, x, grad_out, layer_name="Residual(Linear(4, 4))", batch_size=n,
                         alternatives={"x": lambda: [
                             (grad_out @ w.T,
                              "the block path alone: the identity path is missing. y = x + block(x), so "
                              "dL/dx = grad_out + block.backward(grad_out)."),
                             (grad_out, "grad_out alone, the identity path: add the block path, "
                                        "block.backward(grad_out)."),
                         ]})


@pytest.mark.fact
def test_residual_names_its_block_parameters(ex, pkg, rng):
    net = ex.Residual(linear(pkg, rng, 3, 3))
    check_names(net, "Residual(Linear)", ["block.W", "block.b"], "keep the block in the attribute self.block.")


def test_a_network_with_a_residual_block_matches_finite_differences(ex, pkg, ref, rng):
    n = 4
    inner = ex.Sequential(linear(pkg, rng, 4, 4), pkg.activations.Tanh(), linear(pkg, rng, 4, 4))
    net = ex.Sequential(linear(pkg, rng, 3, 4), pkg.activations.ReLU(), ex.Residual(inner),
                        linear(pkg, rng, 4, 2), pkg.activations.Tanh())
    check_names(net, "Sequential(Linear, ReLU, Residual(Sequential(Linear, Tanh, Linear)), Linear, Tanh)",
                ["0.W", "0.b", "2.block.0.W", "2.block.0.b", "2.block.2.W", "2.block.2.b", "3.W", "3.b"],
                "the base class names nested layers by joining attribute names and list indices with dots.")
    x = rng.standard_normal((n, 3))
    check_layer_backward(ref, net, x, random_upstream(rng, (n, 2)), layer_name="Sequential with a Residual",
                         batch_size=n)
