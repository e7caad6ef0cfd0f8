"""Exercise 5 (network): Sequential and Residual (layers used more than once: test_network_sharing.py).

Expected values come from finite differences and PyTorch, computed by the judge at test time (a closed form
written here could be evaluated by the learner's process too).
The layers inside the networks are the reference ones (pkg.layers, pkg.activations), so only the way the
network chains them is under test.
"""

import numpy as np
import pytest

from grader.feedback.checks import check_equal, check_raises, check_unchanged
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
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


def tensors(*arrays):
    """float64 PyTorch leaves that require a gradient (judge only)."""
    torch = oracle.torch
    return [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]


def pytorch_chain(x, functions, grad_out=None):
    """PyTorch's value of the functions applied one after the other to x, or its dL/dx for grad_out (judge only)."""
    tx = tensors(x)[0]
    y = oracle.torch.nn.Sequential(*[Function(f) for f in functions])(tx)
    if grad_out is None:
        return y.detach().numpy()
    return oracle.torch.autograd.grad(y, tx, oracle.torch.tensor(np.asarray(grad_out, dtype=np.float64)))[0].numpy()


def Function(f):
    """A torch.nn.Module applying f (judge only)."""
    class Applies(oracle.torch.nn.Module):
        def forward(self, t):
            return f(t)

    return Applies()


def scales(*factors):
    return [lambda t, k=k: k * t for k in factors]


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
    check_close_ref("Sequential(2x, 3x, 5x).forward", net.forward(x), lambda: pytorch_chain(x, scales(2.0, 3.0, 5.0)),
                    alternatives=lambda: [
        (5.0 * x, "5 x, the last layer applied to the input alone: feed each layer's output into the "
                  "next layer (x = layer.forward(x)) and return the last output."),
        (2.0 * x, "2 x, the first layer applied to the input alone: feed each layer's output into the "
                  "next layer and return the last output."),
        (x, "the input unchanged: apply every layer, each to the previous layer's output."),
    ])
    check_close_ref("Sequential(2x, 3x, 5x)(x), calling the network", net(x),
                    lambda: pytorch_chain(x, scales(2.0, 3.0, 5.0)))


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
        "last layer is the one that receives dL/dy." + (" None was called: these layers have no parameters, and every "
        "layer's backward must run, with or without parameters (an activation's too)." if not order else "")))
    check_close_ref("Sequential(2x, 3x, 5x).backward (dL/dx)", grad_x,
                    lambda: pytorch_chain(x, scales(2.0, 3.0, 5.0), grad_out), alternatives=lambda: [
        (2.0 * grad_out, "2 dL/dy, the first layer's backward of grad_out alone: each layer's backward must "
                         "receive the gradient returned by the layer after it (g = layer.backward(g))."),
        (5.0 * grad_out, "5 dL/dy, the last layer's backward alone: each layer's backward must receive the "
                         "gradient returned by the layer after it, and the first layer's result is returned."),
        (grad_out, "grad_out unchanged: pass it backward through every layer and return the result."),
        (72.0 * grad_out, "each layer's gradient added to the one it received (g = g + layer.backward(g), or +=) "
                          "instead of passing it on: g = layer.backward(g) replaces it."),
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
        torch = oracle.torch
        tx, tw1, tb1, tw2, tb2 = tensors(x, *params)
        ty = torch.tanh(torch.relu(tx @ tw1 + tb1) @ tw2 + tb2)
        if which == "y":
            return ty.detach().numpy()
        ty.backward(torch.tensor(grad_out))
        return {"x": tx, "0.W": tw1, "0.b": tb1, "2.W": tw2, "2.b": tb2}[which].grad.numpy()

    net.zero_grad()
    y = net.forward(x)
    check_close_ref("Sequential(Linear, ReLU, Linear, Tanh).forward", y, lambda: pytorch("y"), batch_size=n)
    grad_x = net.backward(grad_out)
    check_close_ref("Sequential.backward: dL/dx", grad_x, lambda: pytorch("x"), batch_size=n)
    for name, p in (("0.W", first.W), ("0.b", first.b), ("2.W", second.W), ("2.b", second.b)):
        check_close_ref(f"Sequential.backward: dL/d{name}", p.grad, lambda name=name: pytorch(name), batch_size=n)


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
    check_close_ref("Sequential().forward", net.forward(x), lambda: pytorch_chain(x, []))
    check_close_ref("Sequential().backward", net.backward(grad_out), lambda: pytorch_chain(x, [], grad_out))


def test_sequential_does_not_modify_its_input_or_upstream_gradient(ex, pkg, rng):
    net = mlp(ex, pkg, rng)
    x = rng.standard_normal((4, 5))
    grad_out = random_upstream(rng, (4, 3))
    x_before, grad_before = x.copy(), grad_out.copy()
    first, second = net.layers[0], net.layers[2]
    W1, b1, W2, b2 = (a.copy() for a in (first.W.data, first.b.data, second.W.data, second.b.data))
    check_close_ref("Sequential(Linear, ReLU, Linear, Tanh).forward", net.forward(x), lambda: pytorch_chain(x_before, [
        lambda t: oracle.F.linear(t, *tensors(W1.T, b1)), oracle.torch.relu,
        lambda t: oracle.F.linear(t, *tensors(W2.T, b2)), oracle.torch.tanh]))
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
# Residual


def test_residual_forward_adds_the_input_to_the_block_output(ex, pkg, rng):
    block = linear(pkg, rng, 4, 4)
    x = rng.standard_normal((5, 4))
    w, b = block.W.data.copy(), block.b.data.copy()
    check_close_ref("Residual(Linear(4, 4)).forward", ex.Residual(block).forward(x),
                    lambda: pytorch_chain(x, [lambda t: t + oracle.F.linear(t, *tensors(w.T, b))]),
                alternatives=lambda: [(x @ w + b, "the block's output alone: the identity path is missing, "
                                                  "return x + block(x)."),
                                      (2 * (x @ w + b), "the block's output twice (out + out): the identity path "
                                                        "adds the input, x + block(x).")])


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
                             (grad_out * (1 + grad_out @ w.T), "grad_out * (1 + block.backward(grad_out)): the two "
                                        "paths multiplied; their gradients add, grad_out + block.backward(grad_out)."),
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


@pytest.mark.fact
def test_residual_refuses_a_block_whose_output_would_broadcast(ex, pkg, rng):
    net = ex.Residual(linear(pkg, rng, 4, 1))
    x = rng.standard_normal((5, 4))
    check_raises("Residual(Linear(4, 1)).forward", ValueError, lambda: net.forward(x),
                 message="Residual(Linear(4, 1)).forward returned without error although the block maps (5, 4) to "
                         "(5, 1): x + block(x) would broadcast silently. Compare the whole shape (out.shape != "
                         "x.shape), not only the batch size.")

    class Column(pkg.layers.Layer):
        def forward(self, x):
            return x.reshape(-1, 1)

    column = ex.Residual(Column())
    check_raises("Residual(a block mapping (1, 4) to (4, 1)).forward", ValueError,
                 lambda: column.forward(np.ones((1, 4))),
                 message=lambda outcome: "Residual.forward " + (f"raised {outcome['raised'][0]}" if outcome.get(
                     "raised") else "returned without error") + " although the block maps (1, 4) to (4, 1), which x + "
                 "block(x) broadcasts to (4, 4): the same size is not the same shape; compare the shapes (out.shape != "
                 "x.shape) and raise ValueError.")
