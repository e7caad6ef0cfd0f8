"""Exercise 5 (network): Sequential and Residual.

Expected values come from finite differences, PyTorch and closed forms, computed here at test time.
The layers inside the networks are the reference ones (pkg.layers, pkg.activations), so only the way
the network chains them is under test.
"""

import numpy as np
import torch

from grader.feedback.diagnose import check_close
from helpers import assert_unchanged, check_layer_backward, random_upstream


def linear(pkg, rng, n_in, n_out):
    """A float64 reference Linear with a non-zero bias."""
    layer = pkg.layers.Linear(n_in, n_out, rng=rng)
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


def assert_parameter_names(net, description, expected, advice):
    """net.named_parameters() must give exactly the names `expected`, in order (`advice` says how)."""
    __tracebackhide__ = True
    names = [name for name, _ in net.named_parameters()]
    assert names == expected, f"{description}.named_parameters() gave {names}; expected {expected}: {advice}"


# ----------------------------------------------------------------------------------------------------
# Sequential


def test_sequential_forward_feeds_each_layer_into_the_next(ex, pkg, rng):
    log = []
    net = ex.Sequential(scale_layer(pkg, 2.0, log), scale_layer(pkg, 3.0, log), scale_layer(pkg, 5.0, log))
    x = rng.standard_normal((4, 3))
    check_close("Sequential(2x, 3x, 5x).forward", net.forward(x), 30.0 * x, alternatives=[
        (5.0 * x, "5 x, the last layer applied to the input alone: feed each layer's output into the "
                  "next layer (x = layer.forward(x)) and return the last output."),
        (2.0 * x, "2 x, the first layer applied to the input alone: feed each layer's output into the "
                  "next layer and return the last output."),
        (x, "the input unchanged: apply every layer, each to the previous layer's output."),
    ])
    check_close("Sequential(2x, 3x, 5x)(x), calling the network", net(x), 30.0 * x)


def test_sequential_backward_visits_the_layers_in_reverse_and_chains_their_gradients(ex, pkg, rng):
    log = []
    net = ex.Sequential(scale_layer(pkg, 2.0, log), scale_layer(pkg, 3.0, log), scale_layer(pkg, 5.0, log))
    x = rng.standard_normal((4, 3))
    grad_out = random_upstream(rng, (4, 3))
    net.forward(x)
    del log[:]
    grad_x = net.backward(grad_out)
    order = [k for kind, k in log if kind == "backward"]
    assert order == [5.0, 3.0, 2.0], (
        f"Sequential.backward called the backward of the layers y = 2x, 3x, 5x in the order "
        f"{[int(k) for k in order]}; it must walk them in reverse order, last layer first ([5, 3, 2]): the "
        "last layer is the one that receives dL/dy."
    )
    check_close("Sequential(2x, 3x, 5x).backward (dL/dx)", grad_x, 30.0 * grad_out, alternatives=[
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
    x = rng.standard_normal((n, 5))
    grad_out = random_upstream(rng, (n, 3))
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, first.W.data, first.b.data,
                                                             second.W.data, second.b.data)]
    tx, tw1, tb1, tw2, tb2 = tensors
    ty = torch.tanh(torch.relu(tx @ tw1 + tb1) @ tw2 + tb2)
    ty.backward(torch.tensor(grad_out))
    net.zero_grad()
    y = net.forward(x)
    check_close("Sequential(Linear, ReLU, Linear, Tanh).forward", y, ty.detach().numpy(), batch_size=n)
    grad_x = net.backward(grad_out)
    check_close("Sequential.backward: dL/dx", grad_x, tx.grad.numpy(), batch_size=n)
    for name, p, t in (("0.W", first.W, tw1), ("0.b", first.b, tb1), ("2.W", second.W, tw2),
                       ("2.b", second.b, tb2)):
        check_close(f"Sequential.backward: dL/d{name}", p.grad, t.grad.numpy(), batch_size=n)


def test_sequential_keeps_its_layers_and_names_parameters_by_position(ex, pkg, rng):
    layers = [linear(pkg, rng, 5, 4), pkg.activations.ReLU(), linear(pkg, rng, 4, 3)]
    net = ex.Sequential(*layers)
    kept = getattr(net, "layers", None)
    assert isinstance(kept, list) and len(kept) == 3 and all(a is b for a, b in zip(kept, layers)), (
        "Sequential(*layers) must keep the layer objects themselves, in order, in the list attribute "
        "self.layers (the training code and the parameter names rely on it)."
    )
    assert_parameter_names(net, "Sequential(Linear, ReLU, Linear)", ["0.W", "0.b", "2.W", "2.b"],
                           "keep the layers in a list attribute so that the base class names them by position.")


def test_an_empty_sequential_is_the_identity(ex, rng):
    net = ex.Sequential()
    x = rng.standard_normal((3, 2))
    grad_out = random_upstream(rng, (3, 2))
    check_close("Sequential().forward", net.forward(x), x)
    check_close("Sequential().backward", net.backward(grad_out), grad_out)


def test_sequential_does_not_modify_its_input_or_upstream_gradient(ex, pkg, rng):
    net = mlp(ex, pkg, rng)
    x = rng.standard_normal((4, 5))
    grad_out = random_upstream(rng, (4, 3))
    x_before, grad_before = x.copy(), grad_out.copy()
    net.forward(x)
    net.backward(grad_out)
    assert_unchanged("Sequential.forward", x_before, x)
    assert_unchanged("Sequential.backward", grad_before, grad_out)


def test_train_and_eval_reach_every_nested_layer(ex, pkg, rng):
    inner = ex.Sequential(linear(pkg, rng, 4, 4), pkg.activations.ReLU())
    residual = ex.Residual(inner)
    net = ex.Sequential(linear(pkg, rng, 5, 4), residual, pkg.activations.Tanh())
    everything = [net, net.layers[0], residual, inner, inner.layers[0], inner.layers[1], net.layers[2]]
    net.eval()
    flags = [getattr(layer, "training", None) for layer in everything]
    assert flags == [False] * len(everything), (
        f"after net.eval() the training flags of the network and its nested layers are {flags}: every "
        "layer must be reachable through the attributes self.layers (a list) and self.block, and must "
        "call Layer.__init__ (super().__init__())."
    )
    net.train()
    flags = [getattr(layer, "training", None) for layer in everything]
    assert flags == [True] * len(everything), f"after net.train() the training flags are {flags}."


# ----------------------------------------------------------------------------------------------------
# A layer used twice


def shared_linear_gradients(layer, x, grad_out):
    """Closed-form gradients of y = tanh(x W + b) W + b, one Linear used twice, split by use."""
    w, b = layer.W.data, layer.b.data
    h = np.tanh(x @ w + b)
    second_w, second_b = h.T @ grad_out, grad_out.sum(axis=0)
    da = (grad_out @ w.T) * (1.0 - h ** 2)
    first_w, first_b = x.T @ da, da.sum(axis=0)
    return {"first": (first_w, first_b), "second": (second_w, second_b), "stale": h.T @ grad_out + h.T @ da}


def test_a_layer_used_twice_lists_its_parameters_once(ex, pkg, rng):
    shared = linear(pkg, rng, 4, 4)
    net = ex.Sequential(shared, pkg.activations.Tanh(), shared)
    assert_parameter_names(net, "Sequential(lin, Tanh(), lin)", ["0.W", "0.b"],
                           "a shared layer's parameters are listed once (an optimiser would otherwise update "
                           "them twice per step).")


def test_a_linear_used_twice_receives_both_contributions(ex, pkg, ref, rng):
    n = 5
    shared = linear(pkg, rng, 4, 4)
    net = ex.Sequential(shared, pkg.activations.Tanh(), shared)
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 4))
    parts = shared_linear_gradients(shared, x, grad_out)
    first_only = ("only the contribution of the first use of the shared layer: the second use's gradient "
                  "was lost (was p.grad zeroed or assigned between the two backward calls?). The gradient of "
                  "a shared parameter is the sum over its uses.")
    second_only = ("only the contribution of the second use of the shared layer: call backward once per use, "
                   "so that both contributions are added into p.grad.")
    check_layer_backward(ref, net, x, grad_out, layer_name="Sequential(lin, Tanh(), lin)", batch_size=n,
                         alternatives={
                             "0.W": [(parts["first"][0], first_only), (parts["second"][0], second_only),
                                     (parts["stale"],
                                      "what the first use's backward gives with the input cached by the "
                                      "second forward: a layer remembers only its last forward, so the "
                                      "second use overwrote the first one's input. Re-run forward on the "
                                      "input of that use just before its backward.")],
                             "0.b": [(parts["first"][1], first_only), (parts["second"][1], second_only)],
                         })


def test_an_activation_used_twice_backpropagates_through_each_use(ex, pkg, ref, rng):
    # One ReLU instance after both Linear layers, as in `relu = ReLU(); Sequential(l1, relu, l2, relu)`.
    n = 6
    first, second = linear(pkg, rng, 4, 4), linear(pkg, rng, 4, 4)
    relu = pkg.activations.ReLU()
    net = ex.Sequential(first, relu, second, relu)
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 4))
    a1 = x @ first.W.data + first.b.data
    a2 = np.maximum(a1, 0) @ second.W.data + second.b.data
    # With the mask of the second use (a2 > 0) applied at the first use as well:
    da1_stale = ((grad_out * (a2 > 0)) @ second.W.data.T) * (a2 > 0)
    stale = ("what you get when the ReLU's first use backpropagates with the mask of its second use: a layer "
             "remembers only its last forward. Re-run forward on the input of that use just before its "
             "backward.")
    check_layer_backward(ref, net, x, grad_out, layer_name="Sequential(lin, relu, lin, relu)", batch_size=n,
                         alternatives={"x": [(da1_stale @ first.W.data.T, stale)],
                                       "0.W": [(x.T @ da1_stale, stale)],
                                       "0.b": [(da1_stale.sum(axis=0), stale)]})


# ----------------------------------------------------------------------------------------------------
# Residual


def test_residual_forward_adds_the_input_to_the_block_output(ex, pkg, rng):
    block = linear(pkg, rng, 4, 4)
    x = rng.standard_normal((5, 4))
    expected = x + x @ block.W.data + block.b.data
    check_close("Residual(Linear(4, 4)).forward", ex.Residual(block).forward(x), expected, alternatives=[
        (expected - x, "the block's output alone: the identity path is missing, return x + block(x)."),
    ])


def test_residual_backward_sums_the_identity_and_the_block_paths(ex, pkg, ref, rng):
    n = 5
    block = linear(pkg, rng, 4, 4)
    net = ex.Residual(block)
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 4))
    check_layer_backward(ref, net, x, grad_out, layer_name="Residual(Linear(4, 4))", batch_size=n,
                         alternatives={"x": [
                             (grad_out @ block.W.data.T,
                              "the block path alone: the identity path is missing. y = x + block(x), so "
                              "dL/dx = grad_out + block.backward(grad_out)."),
                             (grad_out, "grad_out alone, the identity path: add the block path, "
                                        "block.backward(grad_out)."),
                         ]})


def test_residual_names_its_block_parameters(ex, pkg, rng):
    net = ex.Residual(linear(pkg, rng, 3, 3))
    assert_parameter_names(net, "Residual(Linear)", ["block.W", "block.b"],
                           "keep the block in the attribute self.block.")


def test_a_network_with_a_residual_block_matches_finite_differences(ex, pkg, ref, rng):
    n = 4
    inner = ex.Sequential(linear(pkg, rng, 4, 4), pkg.activations.Tanh(), linear(pkg, rng, 4, 4))
    net = ex.Sequential(linear(pkg, rng, 3, 4), pkg.activations.ReLU(), ex.Residual(inner),
                        linear(pkg, rng, 4, 2), pkg.activations.Tanh())
    names = [name for name, _ in net.named_parameters()]
    assert names == ["0.W", "0.b", "2.block.0.W", "2.block.0.b", "2.block.2.W", "2.block.2.b", "3.W", "3.b"], (
        f"named_parameters() of Sequential(Linear, ReLU, Residual(Sequential(Linear, Tanh, Linear)), Linear, "
        f"Tanh) gave {names}."
    )
    x = rng.standard_normal((n, 3))
    check_layer_backward(ref, net, x, random_upstream(rng, (n, 2)), layer_name="Sequential with a Residual",
                         batch_size=n)
