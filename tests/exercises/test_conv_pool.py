"""Stretch exercise (conv), pooling and flattening: MaxPool2d (ties, overlapping windows) and Flatten, against
the reference (which `make test` checks against PyTorch) and finite differences computed by the judge; and the
milestone's CNN.
"""

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_that, check_unchanged
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import check_layer_backward, once, own_rng, random_upstream
from test_conv import check_output_shape, explain_sizes, make_conv, torch_conv


# -------------------------------------------------------------------------------------------- MaxPool2d

# (N, C, H, W, kernel, stride): non-overlapping, overlapping (stride < kernel), odd sizes that leave
# rows out, non-square input, stride larger than the kernel.
POOL_CASES = [(2, 3, 8, 6, 2, None), (2, 2, 7, 9, 3, 2), (1, 2, 5, 5, 2, 1), (2, 1, 9, 7, 2, 3)]
POOL_IDS = ["2x2-s2", "3x3-s2-overlap", "2x2-s1-overlap", "2x2-s3"]


def pooled_shape(x_shape, kernel, stride):
    n, c, h, w = x_shape
    stride = stride or kernel
    return n, c, (h - kernel) // stride + 1, (w - kernel) // stride + 1


def torch_pool(x, kernel, stride, grad_out=None):
    """(y, dL/dx) of PyTorch's max pooling (judge only); dL/dx is None without grad_out."""
    torch, F = oracle.torch, oracle.F
    tx = torch.tensor(x, requires_grad=True)
    y = F.max_pool2d(tx, kernel, stride)
    if grad_out is None:
        return y.detach().numpy(), None
    y.backward(torch.tensor(grad_out))
    return y.detach().numpy(), tx.grad.numpy()


def spread_to_every_position(x_shape, grad_out, kernel, stride, scale=1.0):
    """A known-wrong gradient: every position of each window gets scale * its gradient (accumulated)."""
    torch, F = oracle.torch, oracle.F
    tx = torch.zeros(x_shape, dtype=torch.float64, requires_grad=True)
    y = F.avg_pool2d(tx, kernel, stride or kernel)
    y.backward(torch.tensor(grad_out) * kernel * kernel * scale)
    return tx.grad.numpy()


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_maxpool_forward_matches_pytorch(ex, rng, case):
    n, c, h, w, kernel, stride = case
    x = rng.standard_normal((n, c, h, w))
    before = x.copy()
    with explain_sizes("MaxPool2d.forward", x.shape, kernel, stride or kernel, 0,
                       rows_per_window=(c * kernel ** 2, c), channels_first=True):
        y = ex.MaxPool2d(kernel, stride).forward(x)
    check_unchanged("MaxPool2d.forward", before, x)
    check_output_shape(f"MaxPool2d({kernel}, stride={stride}).forward", y, pooled_shape(x.shape, kernel, stride),
                       x.shape, kernel, stride or kernel, 0)
    check_close_ref(f"MaxPool2d({kernel}, stride={stride}).forward", y,
                    lambda: torch_pool(x, kernel, stride or kernel)[0], alternatives=lambda: [
                        (-torch_pool(-x, kernel, stride or kernel)[0], "each window's MINIMUM: max pooling keeps the "
                                                                       "largest value (max, argmax)."),
                        (oracle.F.avg_pool2d(oracle.torch.tensor(x), kernel, stride or kernel).numpy(),
                         "each window's average: max pooling keeps the largest value.")])


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_maxpool_backward_routes_each_gradient_to_the_maximum_like_pytorch(ex, rng, case):
    n, c, h, w, kernel, stride = case
    x = rng.standard_normal((n, c, h, w))
    grad_out = random_upstream(rng, pooled_shape(x.shape, kernel, stride))
    pool = ex.MaxPool2d(kernel, stride)
    before = grad_out.copy()
    with explain_sizes("MaxPool2d.forward or backward", x.shape, kernel, stride or kernel, 0,
                       rows_per_window=(c * kernel ** 2, c), channels_first=True):
        pool.forward(x)
        grad_x = pool.backward(grad_out)
    check_unchanged("MaxPool2d.backward", before, grad_out)
    check_close_ref(f"MaxPool2d({kernel}, stride={stride}).backward: dL/dx", grad_x,
                    lambda: torch_pool(x, kernel, stride or kernel, grad_out)[1],
                    alternatives=lambda: [
                        (spread_to_every_position(x.shape, grad_out, kernel, stride), "the gradient copied to every "
                         "position of the window: only the maximum influenced the output, so only it gets the "
                         "gradient."),
                        (spread_to_every_position(x.shape, grad_out, kernel, stride, 1.0 / kernel ** 2), "the "
                         "gradient of AVERAGE pooling (shared equally by the window): max pooling gives it all to "
                         "the maximum and 0 to the others."),
                        (-torch_pool(-x, kernel, stride or kernel, -grad_out)[1], "the gradient routed to each "
                         "window's MINIMUM (argmin): it goes to the position of the maximum (argmax).")],
                    regions=lambda: [(spread_to_every_position(x.shape, np.ones_like(grad_out), kernel, stride) > 1.5,
                                      "several windows overlap (stride < kernel)", "a pixel that is the maximum of "
                                      "several windows must ADD their gradients (+=), not keep the last one (=).")])


def test_maxpool_ties_give_the_gradient_to_the_first_maximum_only(ex, rng):
    # After a ReLU, windows of zeros are common: every position ties. PyTorch routes the gradient to the
    # first maximum in row-major order; the total gradient must not grow with the number of ties.
    x = np.maximum(rng.standard_normal((2, 2, 6, 6)), 0.0)
    x[:, :, :2, :2] = 0.5
    grad_out = random_upstream(rng, (2, 2, 3, 3))
    pool = ex.MaxPool2d(2)
    pool.forward(x)
    grad_x = pool.backward(grad_out)

    def every_tie():
        window_max = torch_pool(x, 2, 2)[0]
        is_max = x == np.repeat(np.repeat(window_max, 2, axis=2), 2, axis=3)
        return np.repeat(np.repeat(grad_out, 2, axis=2), 2, axis=3) * is_max

    check_close_ref("MaxPool2d.backward with tied maxima", grad_x, lambda: torch_pool(x, 2, 2, grad_out)[1],
                    alternatives=lambda: [(every_tie(), "the full gradient given to EVERY tied maximum: it then counts "
                                           "several times. Give it to the first maximum of the window only "
                                           "(row-major order), as PyTorch does.")])


def test_maxpool_keeps_float32(ex, rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    grad_out = random_upstream(rng, (2, 3, 3, 3)).astype(np.float32)
    pool = ex.MaxPool2d(2)
    y = pool.forward(x)
    grad_x = pool.backward(grad_out)
    x64, g64 = x.astype(np.float64), grad_out.astype(np.float64)
    # A float64 result is reported with its dtype by the check itself (the reference's is float32).
    check_close_ref("MaxPool2d(2).forward of float32 x", y, lambda: torch_pool(x64, 2, 2)[0], rtol=1e-6)
    check_close_ref("MaxPool2d(2).backward of float32 x: dL/dx", grad_x, lambda: torch_pool(x64, 2, 2, g64)[1],
                    rtol=1e-6)


def test_maxpool_backward_matches_finite_differences(ex, ref, rng):
    pool = ex.MaxPool2d(2)
    x = rng.standard_normal((2, 2, 4, 6))
    check_layer_backward(ref, pool, x, random_upstream(rng, (2, 2, 2, 3)), layer_name="MaxPool2d", batch_size=2)


# ---------------------------------------------------------------------------------------------- Flatten


def test_flatten_keeps_pytorch_order_and_backward_restores_the_shape(ex, rng):
    x = rng.standard_normal((3, 2, 4, 5))
    before = x.copy()
    flatten = ex.Flatten()
    y = flatten.forward(x)
    check_unchanged("Flatten.forward", before, x)
    check_equal("Flatten.forward's output shape", np.shape(y), (3, 40), lambda shape: (
        f"Flatten.forward returned shape {tuple(shape)} for x of shape {x.shape}: keep the batch axis, (N, C*H*W) = "
        "x.reshape(N, -1), one row per sample" + (", not one vector for the whole batch." if len(shape) == 1 else ".")))
    check_close_ref("Flatten.forward", y, lambda: oracle.torch.flatten(oracle.torch.tensor(x), 1).numpy())
    grad_out = random_upstream(rng, (3, 40))
    grad_x = flatten.backward(grad_out)
    check_equal("Flatten.backward's output shape", np.shape(grad_x), x.shape, lambda shape: (
        f"Flatten.backward returned shape {tuple(shape)}; it must give back the input's shape {x.shape}."))
    check_close("Flatten.backward", grad_x, grad_out.reshape(x.shape))


# --------------------------------------------------------------------------------- the milestone's CNN


def test_the_mnist_cnn_maps_images_to_ten_logits_with_float32(ex, rng):
    model = ex.build_mnist_cnn(own_rng())
    x = rng.random((3, 1, 28, 28), dtype=np.float32)
    logits = np.asarray(model.forward(x))
    check_equal("the shape of build_mnist_cnn's logits", logits.shape, (3, 10),
                lambda shape: f"build_mnist_cnn(rng) gave logits of shape {tuple(shape)}; expected (3, 10).")
    check_that("the CNN's logits for float32 images", logits, lambda logits: logits.dtype == np.float32,
               lambda logits: f"The CNN's logits are {logits.dtype} for float32 input: a float64 array crept in "
               "(check the dtype of W, b and of arrays you create with np.zeros).")
    model.backward(np.ones_like(logits))
    check_that("the first layer's W.grad after backward", model.parameters()[0].grad,
               lambda grad: grad.dtype == np.float32 and np.any(grad),
               "After backward, the first layer's weight gradient should be a non-zero float32 array: is every "
               "layer's backward called, and are gradient buffers created with the gradient's dtype?")


def test_conv2d_without_input_gradient_still_fills_the_parameter_gradients(ex, rng):
    conv = make_conv(ex, rng, 1, 2, 3, 1, 1)
    W, b = conv.W.data.copy(), conv.b.data.copy()
    conv.input_gradient = False
    x = rng.standard_normal((2, 1, 4, 4))
    grad_out = random_upstream(rng, (2, 2, 4, 4))
    conv.zero_grad()
    conv.forward(x)
    returned = conv.backward(grad_out)
    check_equal("Conv2d.backward's return value with input_gradient = False", returned is None, True,
                "with conv.input_gradient = False, Conv2d.backward should return None: a first layer's dL/dx "
                "is never used.")
    expected = once(lambda: torch_conv(x, W, b, 1, 1, grad_out))
    check_close_ref("Conv2d.backward with input_gradient = False: dL/dW", conv.W.grad, lambda: expected()["W"],
                    batch_size=2)
    check_close_ref("Conv2d.backward with input_gradient = False: dL/db", conv.b.grad, lambda: expected()["b"],
                    batch_size=2)
