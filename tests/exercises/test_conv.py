"""Stretch exercise (conv): im2col, col2im, Conv2d, MaxPool2d and Flatten.

Expected values come from PyTorch (unfold, fold, conv2d, max_pool2d, float64), from finite differences,
and from the closed-form adjoint identity <im2col(x), c> = <x, col2im(c)>, all computed at test time.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.feedback.diagnose import check_close
from helpers import assert_unchanged, backward_gradients, check_layer_backward, random_upstream

# (N, C, H, W, out_channels, kernel, stride, padding): square and non-square inputs and kernels,
# strides 1 to 3, with and without padding, overlapping and non-overlapping windows.
CONV_CASES = [
    (2, 3, 7, 9, 4, 3, 1, 1),
    (3, 2, 8, 6, 5, (3, 2), 2, 0),
    (2, 3, 9, 8, 2, 4, 3, 2),
    (2, 1, 6, 6, 3, 5, 1, 2),
]
CASE_IDS = ["3x3-s1-p1", "3x2-s2-p0", "4x4-s3-p2", "5x5-s1-p2"]


def as_pair(k):
    return (k, k) if isinstance(k, int) else k


def torch_cols(x, kernel, stride, padding):
    """im2col's layout built from torch's unfold: rows (n, oh, ow), columns (i, j, c)."""
    kh, kw = as_pair(kernel)
    n, c = x.shape[:2]
    unfolded = F.unfold(torch.tensor(x), (kh, kw), padding=padding, stride=stride)  # (N, C*kh*kw, L)
    windows = unfolded.shape[-1]
    return unfolded.reshape(n, c, kh, kw, windows).permute(0, 4, 2, 3, 1).reshape(n * windows, -1).numpy()


def cols_from_torch_layout(cols, x_shape, kernel):
    """Our (N*L, kh*kw*C) columns as torch's (N, C*kh*kw, L), for fold."""
    kh, kw = as_pair(kernel)
    n, c = x_shape[:2]
    blocks = torch.tensor(cols).reshape(n, -1, kh, kw, c)
    return blocks.permute(0, 4, 2, 3, 1).reshape(n, c * kh * kw, -1)


def overwriting_col2im(cols, x_shape, kernel, stride, padding):
    """A known-wrong col2im that assigns (=) each window instead of adding, for diagnoses."""
    kh, kw = as_pair(kernel)
    n, c, h, w = x_shape
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    blocks = cols.reshape(n, oh, ow, kh, kw, c)
    padded = np.zeros((n, h + 2 * padding, w + 2 * padding, c))
    for i in range(kh):
        for j in range(kw):
            padded[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :] = blocks[:, :, :, i, j, :]
    return padded[:, padding:padding + h, padding:padding + w, :].transpose(0, 3, 1, 2)


def make_conv(ex, rng, c_in, c_out, kernel, stride=1, padding=0):
    """A float64 Conv2d with a non-zero bias, so a forgotten bias cannot pass unnoticed."""
    conv = ex.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, rng=rng)
    conv.b.data[...] = rng.standard_normal(c_out)
    return conv


def torch_conv(x, conv, grad_out=None):
    """(y, dL/dx, dL/dW, dL/db) from PyTorch for the layer's current W and b."""
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(np.array(conv.W.data), requires_grad=True)
    tb = torch.tensor(np.array(conv.b.data), requires_grad=True)
    y = F.conv2d(tx, tw, tb, stride=conv.stride, padding=conv.padding)
    if grad_out is None:
        return y.detach().numpy(), None, None, None
    y.backward(torch.tensor(grad_out))
    return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


# ----------------------------------------------------------------------------------------------- im2col


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_im2col_puts_each_window_in_one_row_like_pytorch_unfold(ex, rng, case):
    n, c, h, w, _, kernel, stride, padding = case
    x = rng.standard_normal((n, c, h, w))
    before = x.copy()
    cols = ex.im2col(x, kernel, stride, padding)
    assert_unchanged("im2col", before, x)
    kh, kw = as_pair(kernel)
    unfolded = F.unfold(torch.tensor(x), (kh, kw), padding=padding, stride=stride)
    channel_first = unfolded.permute(0, 2, 1).reshape(-1, c * kh * kw).numpy()
    check_close(f"im2col(x of shape {x.shape}, kernel {kernel}, stride {stride}, padding {padding})", cols,
                torch_cols(x, kernel, stride, padding),
                alternatives=[(channel_first, "the columns in (c, i, j) order (channel slowest); this kata "
                               "orders each row (i, j, c), channel fastest: cols[r, (i*kw + j)*C + c].")])


# ----------------------------------------------------------------------------------------------- col2im


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_col2im_is_the_adjoint_of_im2col(ex, rng, case):
    n, c, h, w, _, kernel, stride, padding = case
    x = rng.standard_normal((n, c, h, w))
    cols = ex.im2col(x, kernel, stride, padding)
    upstream = rng.standard_normal(cols.shape)
    before = upstream.copy()
    folded = ex.col2im(upstream, x.shape, kernel, stride, padding)
    assert_unchanged("col2im", before, upstream)
    if padding and np.shape(folded) == (n, c, h + 2 * padding, w + 2 * padding):
        raise AssertionError(f"col2im returned shape {np.shape(folded)}, the PADDED input's: cut the "
                             f"padding off the edges ([p:p + H, p:p + W]) to get x's shape {x.shape}.")
    # <im2col(x), c> = <x, col2im(c)>: what "adjoint" means, and why col2im computes dL/dx.
    check_close("<x, col2im(c)> (should equal <im2col(x), c> for every x and c)",
                np.sum(x * np.asarray(folded)), np.sum(cols * upstream))


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_col2im_matches_pytorch_fold_and_adds_where_windows_overlap(ex, rng, case):
    n, c, h, w, _, kernel, stride, padding = case
    kh, kw = as_pair(kernel)
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    cols = rng.standard_normal((n * oh * ow, kh * kw * c))
    folded = ex.col2im(cols, (n, c, h, w), kernel, stride, padding)
    if padding and np.shape(folded) == (n, c, h + 2 * padding, w + 2 * padding):
        raise AssertionError(f"col2im returned shape {np.shape(folded)}, the PADDED input's: cut the "
                             f"padding off the edges ([p:p + H, p:p + W]) to get shape {(n, c, h, w)}.")
    expected = F.fold(cols_from_torch_layout(cols, (n, c, h, w), kernel), (h, w), (kh, kw),
                      padding=padding, stride=stride).numpy()
    check_close(f"col2im(cols, kernel {kernel}, stride {stride}, padding {padding})", folded, expected,
                alternatives=[(overwriting_col2im(cols, (n, c, h, w), kernel, stride, padding),
                               "what you get by assigning each window (=) into the image: a pixel covered "
                               "by several windows must ADD all their contributions (+=). You overwrote "
                               "them, keeping only the last window's value.")])


def test_col2im_of_ones_counts_the_windows_covering_each_pixel(ex):
    # 3x3 kernel, stride 1, no padding, on a 5x5 image: the centre is covered by 9 windows, a corner by 1.
    x_shape = (1, 1, 5, 5)
    folded = np.asarray(ex.col2im(np.ones((9, 9)), x_shape, 3, 1, 0))
    per_axis = np.array([1, 2, 3, 2, 1], dtype=float)
    check_close("col2im(ones) for a 3x3 kernel on a 5x5 image (= how many windows cover each pixel)",
                folded, np.outer(per_axis, per_axis)[None, None],
                alternatives=[(np.ones(x_shape), "1 everywhere: each window overwrote the previous one. "
                               "Overlapping windows must ADD (+=) into the image, not assign (=).")])


# ----------------------------------------------------------------------------------------------- Conv2d


def test_conv2d_weight_is_out_in_kh_kw_with_he_initialisation(ex, rng):
    conv = ex.Conv2d(32, 64, (3, 2), rng=rng)
    assert conv.W.data.shape == (64, 32, 3, 2), (
        f"Conv2d(32, 64, (3, 2)).W has shape {conv.W.data.shape}; expected (out, in, kh, kw) = (64, 32, 3, 2), "
        "PyTorch's layout."
    )
    assert conv.b.data.shape == (64,), f"Conv2d(32, 64, ...).b has shape {conv.b.data.shape}; expected (64,)."
    assert not np.any(conv.b.data), "The bias must start at zero."
    fan_in = 32 * 3 * 2
    std = float(np.std(conv.W.data))
    assert abs(std / np.sqrt(2.0 / fan_in) - 1) < 0.05, (
        f"std(W) = {std:.4f}; He initialisation gives sqrt(2 / fan_in) = {np.sqrt(2.0 / fan_in):.4f} with "
        "fan_in = in_channels * kh * kw = 192 (every input a single output sees)."
    )
    small = ex.Conv2d(2, 3, 3, rng=rng, dtype=np.float32)
    assert small.W.data.dtype == np.float32 and small.b.data.dtype == np.float32, (
        "Conv2d(..., dtype=np.float32) must store W and b as float32."
    )


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_conv2d_forward_matches_pytorch(ex, rng, case):
    n, c, h, w, out, kernel, stride, padding = case
    conv = make_conv(ex, rng, c, out, kernel, stride, padding)
    x = rng.standard_normal((n, c, h, w))
    before = x.copy()
    expected, _, _, _ = torch_conv(x, conv)
    y = conv.forward(x)
    assert_unchanged("Conv2d.forward", before, x)
    tw = torch.tensor(np.array(conv.W.data))
    flipped = F.conv2d(torch.tensor(x), tw.flip(2, 3), torch.tensor(conv.b.data), stride=stride,
                       padding=padding).numpy()
    kh, kw = as_pair(kernel)
    # W.reshape(out, -1) read as if its columns were in im2col's (i, j, c) order.
    misread = tw.reshape(out, kh, kw, c).permute(0, 3, 1, 2)
    wrong_order = F.conv2d(torch.tensor(x), misread, torch.tensor(conv.b.data), stride=stride,
                           padding=padding).numpy()
    check_close(f"Conv2d.forward (kernel {kernel}, stride {stride}, padding {padding})", y, expected,
                alternatives=[(expected - conv.b.data[:, None, None], "the convolution without the bias: add "
                               "+ b (one value per output channel)."),
                              (flipped, "a convolution with the kernel flipped: deep-learning 'convolution' is "
                               "a cross-correlation, W[o, c, i, j] multiplies x[.., oh*s + i, ow*s + j]."),
                              (wrong_order, "W.reshape(out, -1) with im2col's (i, j, c) columns: W's columns "
                               "are in (c, i, j) order. Move W's in axis last first: "
                               "W.transpose(0, 2, 3, 1).reshape(out, -1).")])


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_conv2d_backward_matches_pytorch(ex, rng, case):
    n, c, h, w, out, kernel, stride, padding = case
    kh, kw = as_pair(kernel)
    conv = make_conv(ex, rng, c, out, kernel, stride, padding)
    x = rng.standard_normal((n, c, h, w))
    y, _, _, _ = torch_conv(x, conv)
    grad_out = random_upstream(rng, y.shape)
    _, gx, gw, gb = torch_conv(x, conv, grad_out)
    before = grad_out.copy()
    grad_x, grads = backward_gradients(conv, x, grad_out, "Conv2d")
    assert_unchanged("Conv2d.backward", before, grad_out)
    pixels = y.shape[2] * y.shape[3]
    # dL/dW as the (out, kh*kw*in) matrix G^T cols, reshaped straight to (out, in, kh, kw).
    misshaped = gw.transpose(0, 2, 3, 1).reshape(out, c, kh, kw)
    _, gx_flipped, _, _ = torch_conv(x, _with_weights(conv, np.array(conv.W.data)[:, :, ::-1, ::-1]), grad_out)
    check_close("Conv2d.backward: dL/dx (the returned gradient)", grad_x, gx, batch_size=n,
                alternatives=[(gx_flipped, "dL/dx of a convolution with the kernel flipped: each window's "
                               "gradient is G @ W[:, :, i, j] added back at offset (i, j), no flip needed.")])
    check_close("Conv2d.backward: dL/dW (in W.grad)", grads["W"], gw, batch_size=n,
                alternatives=[(misshaped, "G^T cols reshaped straight to (out, in, kh, kw): its columns are in "
                               "im2col's (i, j, c) order, so reshape to (out, kh, kw, in) and then "
                               "transpose(0, 3, 1, 2).")])
    check_close("Conv2d.backward: dL/db (in b.grad)", grads["b"], gb, batch_size=n,
                alternatives=[(gb / (n * pixels), f"the mean of G over all N*OH*OW = {n * pixels} rows: the "
                               "bias gets the SUM over every sample and every pixel."),
                              (gb / pixels, f"the mean over the OH*OW = {pixels} output pixels: sum over the "
                               "pixels too, every pixel used the bias.")])


def _with_weights(conv, weights):
    """A stand-in with the same stride and padding and other weights, for torch_conv."""

    class Stand:
        pass

    stand = Stand()
    stand.W, stand.b = Stand(), conv.b
    stand.W.data = np.ascontiguousarray(weights)
    stand.stride, stand.padding = conv.stride, conv.padding
    return stand


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 0)], ids=["s1-p1", "s2-p0"])
def test_conv2d_backward_matches_finite_differences(ex, ref, rng, stride, padding):
    n = 2
    conv = make_conv(ex, rng, 2, 3, 3, stride, padding)
    x = rng.standard_normal((n, 2, 5, 4))
    y = conv.forward(x)
    check_layer_backward(ref, conv, x, random_upstream(rng, np.shape(y)), layer_name="Conv2d",
                         batch_size=n)


def test_conv2d_backward_adds_into_parameter_gradients(ex, rng):
    conv = make_conv(ex, rng, 2, 3, 3, 1, 1)
    x = rng.standard_normal((2, 2, 4, 4))
    first, second = random_upstream(rng, (2, 3, 4, 4)), random_upstream(rng, (2, 3, 4, 4))
    _, _, gw_first, _ = torch_conv(x, conv, first)
    _, _, gw_second, _ = torch_conv(x, conv, second)
    conv.zero_grad()
    conv.forward(x)
    conv.backward(first)
    conv.backward(second)
    check_close("W.grad after two backward calls without zero_grad", conv.W.grad, gw_first + gw_second,
                alternatives=[(gw_second, "the gradient of the last backward call only: add (+=) into "
                               "W.grad, do not assign (=).")])


# -------------------------------------------------------------------------------------------- MaxPool2d

# (N, C, H, W, kernel, stride): non-overlapping, overlapping (stride < kernel), odd sizes that leave
# rows out, non-square input, stride larger than the kernel.
POOL_CASES = [(2, 3, 8, 6, 2, None), (2, 2, 7, 9, 3, 2), (1, 2, 5, 5, 2, 1), (2, 1, 9, 7, 2, 3)]
POOL_IDS = ["2x2-s2", "3x3-s2-overlap", "2x2-s1-overlap", "2x2-s3"]


def torch_pool(x, kernel, stride, grad_out=None):
    tx = torch.tensor(x, requires_grad=True)
    y = F.max_pool2d(tx, kernel, stride)
    if grad_out is None:
        return y.detach().numpy(), None
    y.backward(torch.tensor(grad_out))
    return y.detach().numpy(), tx.grad.numpy()


def spread_to_every_position(x_shape, grad_out, kernel, stride, scale=1.0):
    """A known-wrong gradient: every position of each window gets scale * its gradient (accumulated)."""
    tx = torch.zeros(x_shape, dtype=torch.float64, requires_grad=True)
    y = F.avg_pool2d(tx, kernel, stride or kernel)
    y.backward(torch.tensor(grad_out) * kernel * kernel * scale)
    return tx.grad.numpy()


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_maxpool_forward_matches_pytorch(ex, rng, case):
    n, c, h, w, kernel, stride = case
    x = rng.standard_normal((n, c, h, w))
    before = x.copy()
    y = ex.MaxPool2d(kernel, stride).forward(x)
    assert_unchanged("MaxPool2d.forward", before, x)
    expected, _ = torch_pool(x, kernel, stride or kernel)
    check_close(f"MaxPool2d({kernel}, stride={stride}).forward", y, expected)


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_maxpool_backward_routes_each_gradient_to_the_maximum_like_pytorch(ex, rng, case):
    n, c, h, w, kernel, stride = case
    x = rng.standard_normal((n, c, h, w))
    y, _ = torch_pool(x, kernel, stride or kernel)
    grad_out = random_upstream(rng, y.shape)
    _, expected = torch_pool(x, kernel, stride or kernel, grad_out)
    pool = ex.MaxPool2d(kernel, stride)
    pool.forward(x)
    before = grad_out.copy()
    grad_x = pool.backward(grad_out)
    assert_unchanged("MaxPool2d.backward", before, grad_out)
    everywhere = spread_to_every_position(x.shape, grad_out, kernel, stride)
    averaged = spread_to_every_position(x.shape, grad_out, kernel, stride, 1.0 / kernel ** 2)
    check_close(f"MaxPool2d({kernel}, stride={stride}).backward: dL/dx", grad_x, expected,
                alternatives=[(everywhere, "the gradient copied to every position of the window: only the "
                               "maximum influenced the output, so only it gets the gradient."),
                              (averaged, "the gradient of AVERAGE pooling (shared equally by the window): "
                               "max pooling gives it all to the maximum and 0 to the others.")])


def test_maxpool_ties_give_the_gradient_to_the_first_maximum_only(ex, rng):
    # After a ReLU, windows of zeros are common: every position ties. PyTorch routes the gradient to the
    # first maximum in row-major order; the total gradient must not grow with the number of ties.
    x = np.maximum(rng.standard_normal((2, 2, 6, 6)), 0.0)
    x[:, :, :2, :2] = 0.5
    y, _ = torch_pool(x, 2, 2)
    grad_out = random_upstream(rng, y.shape)
    _, expected = torch_pool(x, 2, 2, grad_out)
    pool = ex.MaxPool2d(2)
    window_max = np.asarray(pool.forward(x))
    grad_x = pool.backward(grad_out)
    is_max = x == np.repeat(np.repeat(window_max, 2, axis=2), 2, axis=3)
    every_tie = np.repeat(np.repeat(grad_out, 2, axis=2), 2, axis=3) * is_max
    check_close("MaxPool2d.backward with tied maxima", grad_x, expected,
                alternatives=[(every_tie, "the full gradient given to EVERY tied maximum: it then counts "
                               "several times. Give it to the first maximum of the window only (row-major "
                               "order), as PyTorch does.")])


def test_maxpool_backward_matches_finite_differences(ex, ref, rng):
    pool = ex.MaxPool2d(2)
    x = rng.standard_normal((2, 2, 4, 6))
    y = pool.forward(x)
    check_layer_backward(ref, pool, x, random_upstream(rng, np.shape(y)), layer_name="MaxPool2d", batch_size=2)


# ---------------------------------------------------------------------------------------------- Flatten


def test_flatten_keeps_pytorch_order_and_backward_restores_the_shape(ex, rng):
    x = rng.standard_normal((3, 2, 4, 5))
    before = x.copy()
    flatten = ex.Flatten()
    y = flatten.forward(x)
    assert_unchanged("Flatten.forward", before, x)
    check_close("Flatten.forward", y, torch.flatten(torch.tensor(x), 1).numpy())
    grad_out = random_upstream(rng, (3, 40))
    grad_x = flatten.backward(grad_out)
    assert np.shape(grad_x) == x.shape, (
        f"Flatten.backward returned shape {np.shape(grad_x)}; it must give back the input's shape {x.shape}."
    )
    check_close("Flatten.backward", grad_x, grad_out.reshape(x.shape))


# --------------------------------------------------------------------------------- the milestone's CNN


def test_the_mnist_cnn_maps_images_to_ten_logits_with_float32(ex, rng):
    model = ex.build_mnist_cnn(rng)
    x = rng.random((3, 1, 28, 28), dtype=np.float32)
    logits = np.asarray(model.forward(x))
    assert logits.shape == (3, 10), f"build_mnist_cnn(rng) gave logits of shape {logits.shape}; expected (3, 10)."
    assert logits.dtype == np.float32, (
        f"The CNN's logits are {logits.dtype} for float32 input: a float64 array crept in (check the "
        "dtype of W, b and of arrays you create with np.zeros)."
    )
    model.backward(np.ones_like(logits))
    first = model.parameters()[0]
    assert first.grad.dtype == np.float32 and np.any(first.grad), (
        "After backward, the first layer's weight gradient should be a non-zero float32 array: is every "
        "layer's backward called, and are gradient buffers created with the gradient's dtype?"
    )


def test_conv2d_without_input_gradient_still_fills_the_parameter_gradients(ex, rng):
    conv = make_conv(ex, rng, 1, 2, 3, 1, 1)
    conv.input_gradient = False
    x = rng.standard_normal((2, 1, 4, 4))
    grad_out = random_upstream(rng, (2, 2, 4, 4))
    _, _, gw, gb = torch_conv(x, conv, grad_out)
    conv.zero_grad()
    conv.forward(x)
    conv.backward(grad_out)
    check_close("Conv2d.backward with input_gradient = False: dL/dW", conv.W.grad, gw, batch_size=2)
    check_close("Conv2d.backward with input_gradient = False: dL/db", conv.b.grad, gb, batch_size=2)
