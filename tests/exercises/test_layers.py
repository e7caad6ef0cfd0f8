"""Exercise 1 (layers): Parameter, the Layer base class and Linear.

Expected values come from the reference and from finite differences, computed by the judge at test time;
`make test` checks the reference's against PyTorch (grader/feedback/oracle.py), never against a closed form
written here, which the learner's process could evaluate too.
"""

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_that, check_unchanged
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import check_layer_backward, once, own_rng, random_upstream


def pytorch_linear(x, W, b, grad_out):
    """PyTorch's Y = X W + b and its gradients for the upstream grad_out, in float64 (judge only):
    {"y", "x", "W", "b"}."""
    torch = oracle.torch
    tx, tw, tb = (torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in (x, W, b))
    y = oracle.F.linear(tx, tw.T, tb)
    y.backward(torch.tensor(np.asarray(grad_out, dtype=np.float64)))
    return {"y": y.detach().numpy(), "x": tx.grad.numpy(), "W": tw.grad.numpy(), "b": tb.grad.numpy()}


def check_dtype(what, array, dtype, advice):
    """The judge reads the dtype from the raw array the learner's code produced (it crosses with it)."""
    name = np.dtype(dtype).name
    check_that(f"the dtype of {what}", array, lambda a: isinstance(a, np.ndarray) and a.dtype == dtype,
               lambda a: f"{what} has dtype {getattr(a, 'dtype', type(a).__name__)}, expected {name}: {advice}")


def make_linear(pkg, rng, n_in=5, n_out=3):
    """A float64 Linear with weights and a non-zero bias drawn from the test's generator (so a forgotten
    bias cannot pass unnoticed, and the learner's and the reference's runs hold the same parameters)."""
    layer = pkg.layers.Linear(n_in, n_out, rng=own_rng())
    layer.W.data[...] = rng.standard_normal((n_in, n_out))
    layer.b.data[...] = rng.standard_normal(n_out)
    return layer


def two_layer_block(pkg, rng, shared=False):
    """A small container layer holding a list of Linear layers (the last one twice when shared)."""
    Layer = pkg.layers.Layer

    class Block(Layer):
        def __init__(self):
            super().__init__()
            first = pkg.layers.Linear(4, 4, rng=own_rng())
            second = first if shared else pkg.layers.Linear(4, 2, rng=own_rng())
            self.layers = [first, second]

    return Block()


@pytest.mark.fact  # it keeps what it is given: a stub that stores its argument passes
def test_parameter_holds_data_and_a_zero_gradient_of_the_same_shape(ex, rng):
    data = rng.standard_normal((3, 4))
    p = ex.Parameter(data)
    check_close("Parameter.data", p.data, data)
    check_that("Parameter.grad", p.grad, lambda grad: grad is not None and grad.shape == data.shape,
               lambda grad: "Parameter.grad is None: start it as np.zeros_like(data)." if grad is None else
               f"Parameter.grad has shape {getattr(grad, 'shape', None)}, expected {data.shape}.")
    check_that("Parameter.grad", p.grad, lambda grad: not np.any(grad), "Parameter.grad must start at zeros.")
    grads = []
    for data in [rng.standard_normal((3, 4)) for _ in range(5)]:
        garbage = np.full(data.shape, 7.0)  # freed, its memory is handed out again for the next array this size
        del garbage
        grads.append(ex.Parameter(data).grad)
    check_that("Parameter.grad of new Parameters", grads, lambda grads: not any(np.any(g) for g in grads),
               "a new Parameter's grad is not zero: np.empty_like keeps whatever the memory held (garbage); "
               "start it as np.zeros_like(data).")


def test_parameter_turns_integer_data_into_float64_and_keeps_float32(ex, rng):
    integers = rng.integers(-5, 6, size=(2, 3))
    p = ex.Parameter(integers)
    integer_advice = ("a Parameter must not keep integer data: gradients and updates are fractions, and NumPy "
                      "refuses `p.data -= lr * p.grad` on an integer array. Convert integer (and boolean) data "
                      "to float64, e.g. data.astype(np.float64) when not np.issubdtype(data.dtype, np.floating).")
    check_dtype("Parameter(integer array).data", p.data, np.float64, integer_advice)
    check_dtype("Parameter(integer array).grad", p.grad, np.float64, integer_advice)
    check_close_ref("Parameter(integer array).data", p.data,
                    lambda: oracle.torch.as_tensor(integers, dtype=oracle.torch.float64).numpy())
    p32 = ex.Parameter(rng.standard_normal((3, 2)).astype(np.float32))
    float32_advice = ("float32 data must stay float32 (convert only non-float data), or a float32 network "
                      "silently trains in float64, about 1.7 times slower.")
    check_dtype("Parameter(float32 array).data", p32.data, np.float32, float32_advice)
    check_dtype("Parameter(boolean array).data", ex.Parameter(integers > 0).data, np.float64,
                "boolean data must become float64 too: a bool is no integer to np.issubdtype (np.integer), so "
                "convert everything that is not floating (not np.issubdtype(data.dtype, np.floating)).")
    check_dtype("Parameter(float32 array).grad", p32.grad, np.float32,
                "the gradient has the dtype of the data: np.zeros_like(data).")


def test_a_new_layer_is_in_training_mode_and_calling_it_runs_forward(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    check_equal("layer.training", layer.training, True,
                "A new layer must start in training mode (layer.training == True).")
    x = rng.standard_normal((2, 5))
    check_close("layer(x)", layer(x), lambda: layer.forward(x))


@pytest.mark.fact
def test_train_and_eval_switch_every_sublayer(ex, pkg, rng):
    block = two_layer_block(pkg, rng)
    returned = block.eval()
    modes = [block.training] + [layer.training for layer in block.layers]
    check_equal("training flags after eval()", modes, [False, False, False], lambda modes: (
        f"after eval(), training flags of the block and its two sub-layers are {modes}: eval() must "
        "switch every sub-layer too (dropout and batch norm behave differently in eval mode)."))
    check_equal("eval() returns the layer itself", returned is block, True,
                "eval() should return the layer itself, so `model = Net().eval()` works.")
    returned = block.train()
    check_equal("train() returns the layer itself", returned is block, True,
                "train() should return the layer itself (return self), as eval() does, so that calls chain.")
    modes = [block.training] + [layer.training for layer in block.layers]
    check_equal("training flags after train()", modes, [True, True, True],
                lambda modes: f"after train(), training flags are {modes}; expected all True.")


@pytest.mark.fact
def test_named_parameters_name_sublayers_by_their_index(ex, pkg, rng):
    block = two_layer_block(pkg, rng)
    names = [name for name, _ in block.named_parameters()]
    check_equal("named_parameters()", names, ["0.W", "0.b", "1.W", "1.b"], lambda names: (
        f"named_parameters() gave {names}; expected ['0.W', '0.b', '1.W', '1.b']: a layer held in a list "
        "is named by its index, its parameters by their attribute names, joined with a dot."
        + (" None of the sub-layers' parameters is listed: visit each sub-layer (an attribute, list or tuple holding "
           "Layers) recursively, with its own named_parameters()." if not any("." in n for n in names) else "")))
    block.layers = tuple(block.layers)
    check_equal("named_parameters() of a block holding its layers in a tuple", [
        name for name, _ in block.named_parameters()], ["0.W", "0.b", "1.W", "1.b"], lambda names: (
        f"named_parameters() gave {names} for layers held in a tuple: a tuple of layers counts as a list (the "
        "docstring: 'a list or tuple of layers counts too')."))
    listed = block.parameters()
    expected = [block.layers[0].W, block.layers[0].b, block.layers[1].W, block.layers[1].b]
    check_equal("parameters() are the Parameter objects", len(listed) == 4 and all(
        a is b for a, b in zip(listed, expected)), True,
        "parameters() must return the Parameter objects themselves (not copies), in the order of "
        "named_parameters().")


@pytest.mark.fact
def test_named_parameters_list_a_layers_own_first_and_prefix_every_level(ex, pkg, rng):
    class Outer(pkg.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = two_layer_block(pkg, rng)  # attribute order: the sub-layer before the own parameter
            self.scale = ex.Parameter(np.ones(2))

    names = [name for name, _ in Outer().named_parameters()]
    expected = ["scale", "inner.0.W", "inner.0.b", "inner.1.W", "inner.1.b"]
    check_equal("named_parameters() of a layer holding a Parameter and a block", names, expected, lambda names: (
        f"named_parameters() gave {names}; expected {expected}: "
        + ("the outer prefix is lost: a nested layer's names carry every level's prefix, joined with dots."
           if len(names) == len(expected) and set(names) != set(expected) and all(
               any(e == n or e.endswith("." + n) for e in expected) for n in names) else "the order differs: a "
           "layer's own parameters come first, then each sub-layer's, in attribute order."
           if sorted(names) == sorted(expected) else "")))


def test_a_layer_used_twice_lists_its_parameters_once(ex, pkg, rng):
    block = two_layer_block(pkg, rng, shared=True)
    names = [name for name, _ in block.named_parameters()]
    check_that("named_parameters() of a block holding one layer twice", names, lambda names: len(names) == 2,
               lambda names: f"named_parameters() gave {names} for a block whose two entries are the same "
               "layer: the shared parameters are listed twice, so an optimiser would update them twice per step.")
    count = len(block.parameters())
    check_that("parameters() of a block holding one layer twice", count, lambda count: count == 2,
               lambda count: f"parameters() gave {count} Parameters for a block whose two entries are the same "
               "layer (2 Parameters): the shared parameters are listed twice, so an optimiser would update them "
               "twice per step. List each Parameter once, as named_parameters() does.")


@pytest.mark.fact  # the right gradients are zeros, which the worker can report without computing anything
def test_zero_grad_clears_gradients_in_place(ex, pkg, rng):
    block = two_layer_block(pkg, rng)
    held = [p.grad for p in block.parameters()]  # an optimiser keeps references like these
    for grad in held:
        grad[...] = 1.0
    block.zero_grad()
    # Two observations of fixed names (not one per parameter the learner's code lists).
    check_that("every parameter's grad after zero_grad()", [p.grad for p in block.parameters()],
               lambda grads: not any(np.any(grad) for grad in grads),
               lambda grads: f"after zero_grad(), the gradient of parameter "
               f"{(i := next(i for i, grad in enumerate(grads) if np.any(grad)))} is not all zeros" + (
                   f": zero_grad must reset EVERY parameter's gradient; parameters 0 to {i - 1} were reset, {i} "
                   "was not: a loop that stops early (a return inside it), or only the first parameter reset?"
                   if i else ": every parameter of this block belongs to a sub-layer; reset each one parameters() "
                   "lists (sub-layers included), not only the layer's own."))
    check_that("the arrays that were the parameters' grads before zero_grad()", held,
               lambda grads: not any(np.any(grad) for grad in grads),
               lambda grads: f"after zero_grad(), the array that was parameter "
               f"{next(i for i, grad in enumerate(grads) if np.any(grad))}'s .grad is not zero: zero_grad must "
               "clear the gradient in place (p.grad[...] = 0), not replace it with a new array that others "
               "(an optimiser) never see.")


def test_linear_weight_is_in_by_out_and_bias_starts_at_zero(ex, rng):
    layer = ex.Linear(6, 4, rng=own_rng())
    check_equal("Linear(6, 4).W's shape", layer.W.data.shape, (6, 4), lambda shape: (
        f"Linear(6, 4).W has shape {shape}; expected (in_features, out_features) = (6, 4)."))
    check_equal("Linear(6, 4).b's shape", layer.b.data.shape, (4,),
                lambda shape: f"Linear(6, 4).b has shape {shape}; expected (4,).")
    check_that("Linear(6, 4).b", layer.b.data, lambda b: not np.any(b), "The bias must start at zero.")
    check_that("Linear(6, 4).W", layer.W.data, lambda w: np.std(w) > 0,
               "The weights are all equal: draw them with the initialiser and rng.")
    # PyTorch's He standard deviation (torch.nn.init's gain for ReLU over sqrt(fan_in)) times the standard normal
    # draws of NumPy's generator, which has no PyTorch counterpart.
    check_close_ref("Linear(6, 4, rng=np.random.default_rng(0)).W, drawn by the default init 'he' from that rng",
                    layer.W.data, lambda: (oracle.torch.nn.init.calculate_gain("relu") / np.sqrt(6)
                                           * oracle.torch.from_numpy(np.random.default_rng(0).standard_normal((6, 4)))
                                           ).numpy())


def test_linear_draws_with_the_init_string_it_is_given(ex):
    check_close_ref("Linear(6, 4, rng=np.random.default_rng(0), init='xavier').W", ex.Linear(
        6, 4, rng=np.random.default_rng(0), init="xavier").W.data, lambda: oracle.torch.from_numpy(
            np.sqrt(2.0 / (6 + 4)) * np.random.default_rng(0).standard_normal((6, 4))).numpy(),
        alternatives=lambda: [(np.sqrt(2.0 / 6) * np.random.default_rng(0).standard_normal((6, 4)), "He's weights: "
                               "the init argument is ignored (always He). init='xavier' draws with xavier_normal, "
                               "Var = 2 / (fan_in + fan_out); look the string up in INITIALIZERS.")])


def test_linear_uses_the_rng_and_the_initializer_it_is_given(ex, rng):
    seeds = [ex.Linear(8, 3, rng=np.random.default_rng(7)).W.data for _ in range(2)]
    check_that("W of two Linear layers built with generators of the same seed", seeds,
               lambda pair: pair[0].shape == pair[1].shape and np.allclose(pair[0], pair[1]),
               "Two Linear(8, 3) layers built with np.random.default_rng(7) got different weights: draw them "
               "from the rng passed in (through init), never from np.random's global state.")
    ones = ex.Linear(3, 2, rng=own_rng(), init=lambda fan_in, fan_out, _rng: np.ones((fan_in, fan_out)))
    check_close_ref("W of Linear(3, 2, init=<function returning ones>)", ones.W.data,
                    lambda: oracle.torch.ones(3, 2, dtype=oracle.torch.float64).numpy())


def test_linear_honours_its_dtype_in_parameters_forward_and_gradients(ex, rng):
    check_dtype("Linear(5, 3).W.data (no dtype given)", ex.Linear(5, 3, rng=own_rng()).W.data, np.float64,
                "the default dtype is float64, which gradient checks need.")
    layer = ex.Linear(5, 3, rng=own_rng(), dtype=np.float32)
    advice = ("create W and b with the dtype argument (np.asarray(init(...), dtype=dtype), "
              "np.zeros(out_features, dtype=dtype)); otherwise a float32 network silently trains in float64, "
              "about 1.7 times slower.")
    check_dtype("Linear(5, 3, dtype=np.float32).W.data", layer.W.data, np.float32, advice)
    check_dtype("Linear(5, 3, dtype=np.float32).b.data", layer.b.data, np.float32, advice)
    W, b = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    layer.W.data[...] = W
    layer.b.data[...] = b
    W, b = W.astype(np.float64), b.astype(np.float64)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    grad_out = random_upstream(rng, (6, 3)).astype(np.float32)
    layer.zero_grad()
    y = layer.forward(x)
    grad_x = layer.backward(grad_out)
    advice = "float32 parameters and float32 inputs must give float32 results; " + advice
    check_dtype("Linear.forward of float32 inputs", y, np.float32, advice)
    check_dtype("Linear.backward's dL/dx for float32 inputs", grad_x, np.float32, advice)
    check_dtype("W.grad of a float32 Linear", layer.W.grad, np.float32, advice)
    check_dtype("b.grad of a float32 Linear", layer.b.grad, np.float32, advice)
    pytorch = once(lambda: pytorch_linear(x, W, b, grad_out))
    check_close_ref("Linear.forward in float32", y, lambda: pytorch()["y"], rtol=1e-4, atol=1e-5)
    check_close_ref("Linear.backward's dL/dx in float32", grad_x, lambda: pytorch()["x"], rtol=1e-4, atol=1e-5)
    check_close_ref("W.grad in float32", layer.W.grad, lambda: pytorch()["W"], rtol=1e-4, atol=1e-5)
    check_close_ref("b.grad in float32", layer.b.grad, lambda: pytorch()["b"], rtol=1e-4, atol=1e-5, batch_size=6)


def weight_gradient_slips(x, grad_out):
    """Known-wrong dL/dW for the input x and upstream gradient grad_out (judge only)."""
    return [(np.outer(x.sum(axis=0), grad_out.sum(axis=0)), "the outer product of the sum of the inputs and the sum "
             "of the upstream gradients: X^T dL/dY adds up each example's own outer product x_n^T g_n; summing first "
             "adds cross terms between examples.")]


def test_linear_forward_matches_pytorch(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((7, 5))
    W, b = layer.W.data.copy(), layer.b.data.copy()
    check_close_ref("Linear.forward", layer.forward(x),
                    lambda: oracle.torch.nn.functional.linear(*map(oracle.torch.tensor, (x, W.T, b))).numpy(),
                    alternatives=lambda: [(x @ W, "X W without the bias: add + b.")])


def test_linear_backward_matches_finite_differences(ex, pkg, ref, rng):
    n = 6
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((n, 5))
    grad_out = random_upstream(rng, (n, 3))
    check_layer_backward(ref, layer, x, grad_out, layer_name="Linear", batch_size=n,
                         alternatives={"W": lambda: weight_gradient_slips(x, grad_out), "b": lambda: [
                             (grad_out[0], "the first row of dL/dY, one example's: the bias gradient sums over the "
                                           "batch, grad_out.sum(axis=0)."),
                             (grad_out[-1], "the last row of dL/dY, one example's: the bias gradient sums over the "
                                            "batch, grad_out.sum(axis=0).")], "x": lambda: [(
                             grad_out @ (x.T @ grad_out).T, "dL/dY (W.grad)^T: the weights' gradient where the weights "
                                                            "W.data belong: dL/dX = dL/dY W^T.")]})


def test_linear_backward_matches_pytorch(ex, pkg, rng):
    n = 16
    layer = make_linear(pkg, rng, 4, 4)  # square W: a missing transpose keeps the shape
    x = rng.standard_normal((n, 4))
    grad_out = random_upstream(rng, (n, 4))
    W, b = layer.W.data.copy(), layer.b.data.copy()

    def pytorch(which):
        return pytorch_linear(x, W, b, grad_out)[which]

    layer.zero_grad()
    layer.forward(x)
    grad_x = layer.backward(grad_out)
    check_close_ref("Linear.backward: dL/dx", grad_x, lambda: pytorch("x"), batch_size=n,
                    alternatives=lambda: [(grad_out @ W, "dL/dY W instead of dL/dY W^T: transpose W.")])
    check_close_ref("Linear.backward: dL/dW", layer.W.grad, lambda: pytorch("W"), batch_size=n,
                    alternatives=lambda: weight_gradient_slips(x, grad_out))
    check_close_ref("Linear.backward: dL/db", layer.b.grad, lambda: pytorch("b"), batch_size=n)


def test_linear_backward_adds_into_parameter_gradients(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    first, second = random_upstream(rng, (4, 3)), random_upstream(rng, (4, 3))
    W, b = layer.W.data.copy(), layer.b.data.copy()
    layer.zero_grad()
    layer.forward(x)
    layer.backward(first)
    layer.backward(second)
    check_close_ref("W.grad after two backward calls without zero_grad", layer.W.grad,
                    lambda: pytorch_linear(x, W, b, first)["W"] + pytorch_linear(x, W, b, second)["W"],
                    alternatives=lambda: [(x.T @ second, "the gradient of the last backward call only: "
                                           "parameter gradients must be added (+=) into p.grad, not assigned (=), so "
                                           "that a layer used twice gets both contributions.")])


def test_linear_does_not_modify_its_input_or_upstream_gradient(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    grad_out = random_upstream(rng, (4, 3))
    x_before, grad_before = x.copy(), grad_out.copy()
    W, layer_b = layer.W.data.copy(), layer.b.data.copy()
    layer.forward(x)
    grad_x = layer.backward(grad_out)
    check_unchanged("Linear.forward", x_before, x)
    check_unchanged("Linear.backward", grad_before, grad_out)
    check_close_ref("Linear.backward: dL/dx", grad_x,  # it ran, and left its inputs
                    lambda: pytorch_linear(x_before, W, layer_b, grad_before)["x"])


def test_linear_can_skip_the_input_gradient_and_still_fill_parameter_gradients(ex, pkg, rng):
    layer = make_linear(pkg, rng)
    x = rng.standard_normal((4, 5))
    grad_out = random_upstream(rng, (4, 3))
    layer.forward(x)
    by_default = layer.backward(grad_out)
    layer.input_gradient = False
    W, b = layer.W.data.copy(), layer.b.data.copy()
    layer.zero_grad()
    layer.forward(x)
    returned = layer.backward(grad_out)
    check_equal("Linear.backward's return value is None with input_gradient = True, False", [
        by_default is None, returned is None], [False, True], lambda flags:
        "Linear.backward returns None when input_gradient is True and dL/dx when it is False: the flag is "
        "inverted." if flags == [True, False] else "with layer.input_gradient = False, Linear.backward should return "
        "None: a first layer's dL/dx is never used, and skipping it saves a third of its backward." if not flags[1]
        else "Linear.backward returned None with input_gradient = True (the default): return dL/dx unless the flag "
        "is False.")
    check_close_ref("W.grad with input_gradient = False", layer.W.grad, lambda: pytorch_linear(x, W, b, grad_out)["W"])


def test_linear_calls_its_initializer_with_fan_in_then_fan_out(ex, rng):
    layer = ex.Linear(3, 2, rng=own_rng(), init=lambda fan_in, fan_out, _rng: np.arange(
        fan_in * fan_out, dtype=np.float64).reshape(fan_in, fan_out))
    check_close_ref("W of Linear(3, 2, init=<function returning arange(fan_in * fan_out) as (fan_in, fan_out)>)",
                    layer.W.data, lambda: oracle.torch.arange(6, dtype=oracle.torch.float64).reshape(3, 2).numpy(),
                    alternatives=lambda: [(
                    np.arange(6.0).reshape(2, 3).T, "init(out_features, in_features, rng) transposed: call "
                    "init(in_features, out_features, rng); the order of the fans matters (He and Xavier scale by "
                    "fan_in), and transposing after the draw does not restore it.")])
