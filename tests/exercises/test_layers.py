"""Exercise 1 (layers): Parameter, the Layer base class and Linear.

Expected values come from PyTorch and from finite differences, computed here at test time.
"""

import numpy as np
import pytest
import torch

from grader.feedback.diagnose import check_close
from helpers import assert_unchanged, check_layer_backward, random_upstream


def make_linear(pkg, rng, n_in=5, n_out=3):
    """A float64 Linear with a non-zero bias, so a forgotten bias cannot pass unnoticed."""
    layer = pkg.layers.Linear(n_in, n_out, rng=rng)
    layer.b.data[...] = rng.standard_normal(n_out)
    return layer


def two_layer_block(pkg, rng, shared=False):
    """A small container layer holding a list of Linear layers (the last one twice when shared)."""
    Layer = pkg.layers.Layer

    class Block(Layer):
        def __init__(self):
            super().__init__()
            first = pkg.layers.Linear(4, 4, rng=rng)
            second = first if shared else pkg.layers.Linear(4, 2, rng=rng)
            self.layers = [first, second]

    return Block()


def test_parameter_holds_data_and_a_zero_gradient_of_the_same_shape(ex, rng):
    data = rng.standard_normal((3, 4))
    p = ex.Parameter(data)
    check_close("Parameter.data", p.data, data)
    assert p.grad is not None, "Parameter.grad is None: start it as np.zeros_like(data)."
    assert p.grad.shape == data.shape, f"Parameter.grad has shape {p.grad.shape}, expected {data.shape}."
    assert not np.any(p.grad), "Parameter.grad must start at zeros."


def test_a_new_layer_is_in_training_mode_and_calling_it_runs_forward(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    assert layer.training is True, "A new layer must start in training mode (layer.training == True)."
    x = rng.standard_normal((2, 5))
    check_close("layer(x)", layer(x), layer.forward(x))


def test_train_and_eval_switch_every_sublayer(ex, pkg, rng):
    block = two_layer_block(pkg, rng)
    returned = block.eval()
    modes = [block.training] + [layer.training for layer in block.layers]
    assert modes == [False, False, False], (
        f"after eval(), training flags of the block and its two sub-layers are {modes}: eval() must "
        "switch every sub-layer too (dropout and batch norm behave differently in eval mode)."
    )
    assert returned is block, "eval() should return the layer itself, so `model = Net().eval()` works."
    block.train()
    modes = [block.training] + [layer.training for layer in block.layers]
    assert modes == [True, True, True], f"after train(), training flags are {modes}; expected all True."


def test_named_parameters_name_sublayers_by_their_index(ex, pkg, rng):
    block = two_layer_block(pkg, rng)
    names = [name for name, _ in block.named_parameters()]
    assert names == ["0.W", "0.b", "1.W", "1.b"], (
        f"named_parameters() gave {names}; expected ['0.W', '0.b', '1.W', '1.b']: a layer held in a list "
        "is named by its index, its parameters by their attribute names, joined with a dot."
    )
    listed = block.parameters()
    expected = [block.layers[0].W, block.layers[0].b, block.layers[1].W, block.layers[1].b]
    assert len(listed) == 4 and all(a is b for a, b in zip(listed, expected)), (
        "parameters() must return the Parameter objects themselves (not copies), in the order of "
        "named_parameters()."
    )


def test_a_layer_used_twice_lists_its_parameters_once(ex, pkg, rng):
    block = two_layer_block(pkg, rng, shared=True)
    names = [name for name, _ in block.named_parameters()]
    assert len(names) == 2, (
        f"named_parameters() gave {names} for a block whose two entries are the same layer: the shared "
        "parameters are listed twice, so an optimiser would update them twice per step."
    )


def test_zero_grad_clears_gradients_in_place(ex, pkg, rng):
    block = two_layer_block(pkg, rng)
    held = [p.grad for p in block.parameters()]  # an optimiser keeps references like these
    for grad in held:
        grad[...] = 1.0
    block.zero_grad()
    for (name, p), old in zip(block.named_parameters(), held):
        assert not np.any(p.grad), f"after zero_grad(), {name}.grad is not all zeros."
        assert not np.any(old), (
            f"after zero_grad(), the array {name}.grad held before is not zero: zero_grad must clear the "
            "gradient in place (p.grad[...] = 0), not replace it with a new array that others never see."
        )


def test_linear_weight_is_in_by_out_and_bias_starts_at_zero(ex, rng):
    layer = ex.Linear(6, 4, rng=rng)
    assert layer.W.data.shape == (6, 4), (
        f"Linear(6, 4).W has shape {layer.W.data.shape}; expected (in_features, out_features) = (6, 4)."
    )
    assert layer.b.data.shape == (4,), f"Linear(6, 4).b has shape {layer.b.data.shape}; expected (4,)."
    assert not np.any(layer.b.data), "The bias must start at zero."
    assert np.std(layer.W.data) > 0, "The weights are all equal: draw them with the initialiser and rng."


def test_linear_uses_the_rng_and_the_initializer_it_is_given(ex, rng):
    seeds = [ex.Linear(8, 3, rng=np.random.default_rng(7)).W.data for _ in range(2)]
    check_close("W from two Linear layers built with the same seed", seeds[0], seeds[1])
    ones = ex.Linear(3, 2, rng=rng, init=lambda fan_in, fan_out, _rng: np.ones((fan_in, fan_out)))
    check_close("W of Linear(3, 2, init=<function returning ones>)", ones.W.data, np.ones((3, 2)))


def test_linear_forward_matches_pytorch(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((7, 5))
    expected = torch.nn.functional.linear(torch.tensor(x), torch.tensor(layer.W.data.T),
                                          torch.tensor(layer.b.data)).numpy()
    check_close("Linear.forward", layer.forward(x), expected,
                alternatives=[(x @ layer.W.data, "X W without the bias: add + b.")])


def test_linear_backward_matches_finite_differences(ex, pkg, ref, rng):
    n = 6
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((n, 5))
    check_layer_backward(ref, layer, x, random_upstream(rng, (n, 3)), layer_name="Linear", batch_size=n)


def test_linear_backward_matches_pytorch(ex, pkg, rng):
    n = 16
    layer = make_linear(pkg, rng, 4, 4)  # square W: a missing transpose keeps the shape
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 4))
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(layer.W.data, requires_grad=True)
    tb = torch.tensor(layer.b.data, requires_grad=True)
    (tx @ tw + tb).backward(torch.tensor(grad_out))
    layer.zero_grad()
    layer.forward(x)
    grad_x = layer.backward(grad_out)
    check_close("Linear.backward: dL/dx", grad_x, tx.grad.numpy(), batch_size=n,
                alternatives=[(grad_out @ layer.W.data, "dL/dY W instead of dL/dY W^T: transpose W.")])
    check_close("Linear.backward: dL/dW", layer.W.grad, tw.grad.numpy(), batch_size=n)
    check_close("Linear.backward: dL/db", layer.b.grad, tb.grad.numpy(), batch_size=n)


def test_linear_backward_adds_into_parameter_gradients(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    first, second = random_upstream(rng, (4, 3)), random_upstream(rng, (4, 3))
    layer.zero_grad()
    layer.forward(x)
    layer.backward(first)
    layer.backward(second)
    expected_w = x.T @ (first + second)
    check_close("W.grad after two backward calls without zero_grad", layer.W.grad, expected_w,
                alternatives=[(x.T @ second, "the gradient of the last backward call only: parameter "
                               "gradients must be added (+=) into p.grad, not assigned (=), so that a layer "
                               "used twice gets both contributions.")])


def test_linear_does_not_modify_its_input_or_upstream_gradient(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    grad_out = random_upstream(rng, (4, 3))
    x_before, grad_before = x.copy(), grad_out.copy()
    layer.forward(x)
    layer.backward(grad_out)
    assert_unchanged("Linear.forward", x_before, x)
    assert_unchanged("Linear.backward", grad_before, grad_out)


def test_linear_can_skip_the_input_gradient_and_still_fill_parameter_gradients(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    grad_out = random_upstream(rng, (4, 3))
    layer.input_gradient = False
    layer.zero_grad()
    layer.forward(x)
    returned = layer.backward(grad_out)
    assert returned is None, (
        "with layer.input_gradient = False, Linear.backward should return None: a first layer's dL/dx "
        "is never used, and skipping it saves a third of its backward."
    )
    check_close("W.grad with input_gradient = False", layer.W.grad, x.T @ grad_out)
