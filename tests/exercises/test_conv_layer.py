"""Stretch exercise (conv), Conv2d: its weights, forward and backward against PyTorch and finite differences (the
shared helpers and how these tests are judged: test_conv.py).
"""

import numpy as np
import pytest

from grader.feedback.checks import check_equal, check_that, check_unchanged
from grader.feedback.oracle import check_close_ref
from helpers import backward_gradients, check_layer_backward, once, own_rng, random_upstream
from test_conv import (CASE_IDS, CONV_CASES, as_pair, check_output_shape, explain_sizes, make_conv, output_shape,
                       torch_conv)


# ----------------------------------------------------------------------------------------------- Conv2d


def test_conv2d_weight_is_out_in_kh_kw_with_he_initialisation(ex):
    conv = ex.Conv2d(32, 64, (3, 2), rng=own_rng())
    check_equal("Conv2d(32, 64, (3, 2)).W's shape", conv.W.data.shape, (64, 32, 3, 2), lambda shape: (
        f"Conv2d(32, 64, (3, 2)).W has shape {tuple(shape)}; expected (out, in, kh, kw) = (64, 32, 3, 2), "
        "PyTorch's layout."))
    check_equal("Conv2d(32, 64, ...).b's shape", conv.b.data.shape, (64,),
                lambda shape: f"Conv2d(32, 64, ...).b has shape {tuple(shape)}; expected (64,).")
    check_that("Conv2d(32, 64, ...).b", conv.b.data, lambda b: not np.any(b), "The bias must start at zero.")
    fan_in = 32 * 3 * 2
    he = np.sqrt(2.0 / fan_in)
    # 12,288 normal draws: the sample standard deviation is within 5% of the true one with near certainty.
    check_that("std of Conv2d(32, 64, (3, 2)).W", conv.W.data, lambda W: abs(np.std(W) / he - 1) < 0.05,
               lambda W: f"std(W) = {np.std(W):.4f}; He initialisation gives sqrt(2 / fan_in) = {he:.4f} with "
               "fan_in = in_channels x kh x kw = 192 (every input a single output sees).")
    small = ex.Conv2d(2, 3, 3, rng=own_rng(), dtype=np.float32)
    check_that("W and b of Conv2d(..., dtype=np.float32)", [small.W.data, small.b.data],
               lambda arrays: all(array.dtype == np.float32 for array in arrays),
               lambda arrays: f"Conv2d(..., dtype=np.float32) stored W as {arrays[0].dtype} and b as "
                              f"{arrays[1].dtype}: store both in the given dtype (weights.astype(dtype)); float64 "
                              "weights turn a float32 network into float64.")


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_conv2d_forward_matches_pytorch(ex, rng, case):
    n, c, h, w, out, kernel, stride, padding = case
    conv = make_conv(ex, rng, c, out, kernel, stride, padding)
    W, b = conv.W.data.copy(), conv.b.data.copy()
    x = rng.standard_normal((n, c, h, w))
    before = x.copy()
    kh, kw = as_pair(kernel)
    with explain_sizes("Conv2d.forward", x.shape, kernel, stride, padding, rows_per_window=(kh * kw * c, out)):
        y = conv.forward(x)
    check_unchanged("Conv2d.forward", before, x)
    check_output_shape(f"Conv2d.forward (kernel {kernel}, stride {stride}, padding {padding})", y,
                       output_shape(n, h, w, out, kernel, stride, padding), x.shape, kernel, stride, padding)

    def alternatives():
        expected = torch_conv(x, W, b, stride, padding)["y"]
        flipped = torch_conv(x, W[:, :, ::-1, ::-1], b, stride, padding)["y"]
        # W.reshape(out, -1) read as if its columns were in im2col's (i, j, c) order.
        misread = W.reshape(out, kh, kw, c).transpose(0, 3, 1, 2)
        wrong_order = torch_conv(x, misread, b, stride, padding)["y"]
        return [(expected - b[:, None, None], "the convolution without the bias: add + b (one value per "
                 "output channel)."),
                (flipped, "a convolution with the kernel flipped: deep-learning 'convolution' is a "
                 "cross-correlation, W[o, c, i, j] multiplies x[.., oh*s + i, ow*s + j]."),
                (wrong_order, "W.reshape(out, -1) with im2col's (i, j, c) columns: W's columns are in (c, i, j) "
                 "order. Move W's in axis last first: W.transpose(0, 2, 3, 1).reshape(out, -1).")]

    check_close_ref(f"Conv2d.forward (kernel {kernel}, stride {stride}, padding {padding})", y,
                    lambda: torch_conv(x, W, b, stride, padding)["y"], alternatives=alternatives)


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_conv2d_backward_matches_pytorch(ex, rng, case):
    n, c, h, w, out, kernel, stride, padding = case
    kh, kw = as_pair(kernel)
    conv = make_conv(ex, rng, c, out, kernel, stride, padding)
    W, b = conv.W.data.copy(), conv.b.data.copy()
    x = rng.standard_normal((n, c, h, w))
    y_shape = output_shape(n, h, w, out, kernel, stride, padding)
    grad_out = random_upstream(rng, y_shape)
    before = grad_out.copy()
    rows = y_shape[0] * y_shape[2] * y_shape[3]
    with explain_sizes("Conv2d.forward or backward", x.shape, kernel, stride, padding,
                       rows_per_window=(kh * kw * c, out)):
        try:
            conv.forward(x)
            conv.backward(grad_out)
        except ValueError as error:
            if f"({rows},)" in str(error) and f"({out},)" in str(error):
                raise AssertionError(f"Conv2d.backward raised ValueError: {error}\n({rows},) is one value per row of G "
                                     f"(N*OH*OW = {rows} windows): dL/db sums G over its rows (axis 0), every sample "
                                     f"and pixel, leaving one value per output channel, ({out},); a sum over axis 1 "
                                     "(the channels) leaves one per row.") from error
            raise
    grad_x, grads = backward_gradients(conv, x, grad_out, "Conv2d")
    check_unchanged("Conv2d.backward", before, grad_out)
    pixels = y_shape[2] * y_shape[3]
    expected = once(lambda: torch_conv(x, W, b, stride, padding, grad_out))
    flipped = once(lambda: torch_conv(x, W[:, :, ::-1, ::-1], b, stride, padding, grad_out)["x"])
    check_close_ref("Conv2d.backward: dL/dx (the returned gradient)", grad_x, lambda: expected()["x"], batch_size=n,
                    alternatives=lambda: [(flipped(), "dL/dx of a convolution with the kernel flipped: each "
                                           "window's gradient is G @ W[:, :, i, j] added back at offset (i, j), no "
                                           "flip needed.")])
    # dL/dW as the (out, kh*kw*in) matrix G^T cols, reshaped straight to (out, in, kh, kw).
    check_close_ref("Conv2d.backward: dL/dW (in W.grad)", grads.get("W"), lambda: expected()["W"], batch_size=n,
                    alternatives=lambda: [(expected()["W"].transpose(0, 2, 3, 1).reshape(out, c, kh, kw),
                                           "G^T cols reshaped straight to (out, in, kh, kw): its columns are in "
                                           "im2col's (i, j, c) order, so reshape to (out, kh, kw, in) and then "
                                           "transpose(0, 3, 1, 2).")])
    check_close_ref("Conv2d.backward: dL/db (in b.grad)", grads.get("b"), lambda: expected()["b"], batch_size=n,
                    alternatives=lambda: [
                        (expected()["b"] / (n * pixels), f"the mean of G over all N*OH*OW = {n * pixels} rows: the "
                         "bias gets the SUM over every sample and every pixel."),
                        (expected()["b"] / pixels, f"the mean over the OH*OW = {pixels} output pixels: sum over the "
                         "pixels too, every pixel used the bias.")])


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 0)], ids=["s1-p1", "s2-p0"])
def test_conv2d_backward_matches_finite_differences(ex, ref, rng, stride, padding):
    n = 2
    conv = make_conv(ex, rng, 2, 3, 3, stride, padding)
    x = rng.standard_normal((n, 2, 5, 4))
    grad_out = random_upstream(rng, output_shape(n, 5, 4, 3, 3, stride, padding))
    check_layer_backward(ref, conv, x, grad_out, layer_name="Conv2d", batch_size=n)


def test_conv2d_backward_adds_into_parameter_gradients(ex, rng):
    conv = make_conv(ex, rng, 2, 3, 3, 1, 1)
    W, b = conv.W.data.copy(), conv.b.data.copy()
    x = rng.standard_normal((2, 2, 4, 4))
    first, second = random_upstream(rng, (2, 3, 4, 4)), random_upstream(rng, (2, 3, 4, 4))
    conv.zero_grad()
    conv.forward(x)
    conv.backward(first)
    conv.backward(second)
    check_close_ref("W.grad after two backward calls without zero_grad", conv.W.grad,
                    lambda: torch_conv(x, W, b, 1, 1, first)["W"] + torch_conv(x, W, b, 1, 1, second)["W"],
                    alternatives=lambda: [(torch_conv(x, W, b, 1, 1, second)["W"], "the gradient of the last backward "
                                           "call only: add (+=) into W.grad, do not assign (=).")])
