"""Stretch exercise (conv): im2col and col2im, and what the conv tests share (Conv2d: test_conv_layer.py; pooling,
flattening and the milestone's CNN: test_conv_pool.py).

Expected values come from the reference, which `make test` checks against PyTorch (unfold, fold, conv2d,
max_pool2d, float64) (grader/feedback/oracle.py), from finite differences, and from the closed-form adjoint
identity <im2col(x), c> = <x, col2im(c)>, all computed by the judge at test time. Layers get their weights
from the test's generator after construction, so the learner's and the reference's runs hold the same
parameters.
"""

import re

import numpy as np
import pytest

from grader.feedback.checks import check_equal, check_unchanged
from grader.feedback import oracle
from grader.feedback.oracle import check_close_ref
from helpers import own_rng


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


def output_shape(n, h, w, channels, kernel, stride, padding):
    """(N, channels, OH, OW) of a convolution, from the formula (never from the learner's output)."""
    kh, kw = as_pair(kernel)
    return n, channels, (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1


def cols_shape(n, c, h, w, kernel, stride, padding):
    """(N*OH*OW, kh*kw*C), the shape of im2col's result."""
    kh, kw = as_pair(kernel)
    _, _, oh, ow = output_shape(n, h, w, c, kernel, stride, padding)
    return n * oh * ow, kh * kw * c


def torch_cols(x, kernel, stride, padding):
    """im2col's layout built from torch's unfold: rows (n, oh, ow), columns (i, j, c)."""
    torch, F = oracle.torch, oracle.F
    kh, kw = as_pair(kernel)
    n, c = x.shape[:2]
    unfolded = F.unfold(torch.tensor(x), (kh, kw), padding=padding, stride=stride)  # (N, C*kh*kw, L)
    windows = unfolded.shape[-1]
    return unfolded.reshape(n, c, kh, kw, windows).permute(0, 4, 2, 3, 1).reshape(n * windows, -1).numpy()


def torch_col2im(cols, x_shape, kernel, stride, padding):
    """col2im by torch's fold: our (N*L, kh*kw*C) columns reordered as torch's (N, C*kh*kw, L) first."""
    torch, F = oracle.torch, oracle.F
    kh, kw = as_pair(kernel)
    n, c, h, w = x_shape
    blocks = torch.tensor(cols).reshape(n, -1, kh, kw, c).permute(0, 4, 2, 3, 1).reshape(n, c * kh * kw, -1)
    return F.fold(blocks, (h, w), (kh, kw), padding=padding, stride=stride).numpy()


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


def coverage(x_shape, kernel, stride, padding):
    """How many windows cover each pixel of x (judge only: folds all-ones columns with PyTorch)."""
    n, c, h, w = x_shape
    return torch_col2im(np.ones(cols_shape(n, c, h, w, kernel, stride, padding)), x_shape, kernel, stride,
                        padding)


def size_slips(x_shape, kernel, stride, padding):
    """(leading dims (N', OH', OW'), what it means) of the usual slips in im2col's, col2im's and pooling's output-size
    arithmetic, for an input of x_shape; the slips that give the right sizes here are left out."""
    n, _, h, w = x_shape
    kh, kw = as_pair(kernel)

    def out(size, k, s=stride, p=padding):
        return (size + 2 * p - k) // s + 1

    right = (n, out(h, kh), out(w, kw))
    slips = [((n, out(h, kh), out(w, kw, p=0)), "the width was not padded: pad both spatial axes, ((0, 0), (p, p), "
              "(p, p), (0, 0)) channels last"),
             ((n, out(h, kh, p=0), out(w, kw)), "the height was not padded: pad both spatial axes"),
             ((n, out(h, kh, p=0), out(w, kw, p=0)), "no padding at all: was the padding argument passed on?"),
             ((n, out(h, kh), out(h, kw)), "the output width computed from the height (a copy-paste): OW comes from W"),
             ((n, out(w, kh), out(w, kw)), "the output height computed from the width: OH comes from H"),
             ((n, out(h, kh), out(w, kw, s=1)), "the windows strided along the height only: step both spatial axes "
                                               "by the stride ([:, :, ::s, ::s] past the batch and channel axes)"),
             ((n, out(h, kh, s=1), out(w, kw)), "the windows strided along the width only: step both spatial axes"),
             ((n, out(h, kh, s=1), out(w, kw, s=1)), "the stride was not applied"),
             ((-(-n // stride), out(h, kh), out(w, kw, s=1)), "the stride applied to the batch axis and the height "
              "([::s, ::s] from the first axis): skip the batch axis, stride the height and the width"),
             ((n, -(-right[1] // stride), -(-right[2] // stride)), "each offset's slice ends at i + OH instead of i + "
              "stride * OH (and j + OW for j + stride * OW), so it holds too few rows")]
    return [(dims, text) for dims, text in slips if dims != right]


class explain_sizes:
    """Turn a size or shape error raised in the learner's conv code into the slip whose sizes it shows, if one does
    (a reshape's size, a shape in the error starting with that slip's (N', OH', OW') (N', C, OH', OW' channels
    first), or a 2-D shape with N' OH' OW' rows); else let it go."""

    def __init__(self, what, x_shape, kernel, stride, padding, rows_per_window=(), channels_first=False):
        self.what, self.slips, self.rows = what, size_slips(x_shape, kernel, stride, padding), rows_per_window
        self.leading = (lambda shape: shape[:1] + shape[2:4]) if channels_first else (lambda shape: shape[:3])

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        __tracebackhide__ = True
        if kind is None or not issubclass(kind, ValueError):
            return False
        text = str(error)
        sizes = {int(found) for found in re.findall(r"size (\d+)", text)}
        shapes = {tuple(int(k) for k in found.split(",") if k.strip()) for found in re.findall(r"\(([\d, ]+)\)", text)}
        found = [slip for dims, slip in self.slips
                 if any(size % int(np.prod(dims)) == 0 and size // int(np.prod(dims)) in self.rows for size in sizes)
                 or any(self.leading(shape) == dims or len(shape) == 2 and shape[0] == int(np.prod(dims))
                        for shape in shapes)]
        if found:
            raise AssertionError(f"{self.what} raised ValueError: {text}\nIts sizes are those of "
                                 + " or of ".join(found) + ".") from error
        return False


def check_output_shape(what, got, expected, x_shape, kernel, stride, padding, channels_first=True):
    """The shape of a conv or pooling output (or of im2col's rows, 2-D), with the slip its sizes show, if one does."""
    __tracebackhide__ = True

    def message(shape):
        shape = tuple(shape)
        leading = shape[:1] + shape[2:4] if channels_first else (shape[0],)
        found = [text for dims, text in size_slips(x_shape, kernel, stride, padding)
                 if leading == (dims if channels_first else (int(np.prod(dims)),))]
        return f"{what} has shape {shape}, expected {tuple(expected)}" + (
            ": its sizes are those of " + " or of ".join(found) + "." if found else ".")

    check_equal(f"the shape of {what}", np.shape(got), tuple(expected), message)


OVERLAPS_ADD = ("a pixel covered by several windows must ADD all their contributions (+=). You overwrote "
                "them, keeping only one window's value.")


def check_col2im_shape(folded, x_shape, padding):
    """col2im must return x's shape; the padded image's shape has its own sentence."""
    __tracebackhide__ = True
    n, c, h, w = x_shape
    padded = (n, c, h + 2 * padding, w + 2 * padding)
    check_equal("col2im's output shape", np.shape(folded), x_shape, lambda shape: (
        f"col2im returned shape {tuple(shape)}, the PADDED input's: cut the padding off the edges "
        f"([p:p + H, p:p + W]) to get x's shape {x_shape}." if padding and tuple(shape) == padded else
        f"col2im returned shape {tuple(shape)}; it must return x's shape {x_shape}." + (
            " It holds x's sizes with the axes in another order: from channels last (N, H, W, C) back to (N, C, H, "
            "W) is transpose(0, 3, 1, 2), the inverse of the permutation (0, 2, 3, 1) that made it channels last."
            if sorted(shape) == sorted(x_shape) else " An empty image: with padding 0, x[p:-p] is x[0:0]; crop with "
            "[p:p + H, p:p + W] instead." if not padding and 0 in tuple(shape) else "")))


def make_conv(ex, rng, c_in, c_out, kernel, stride=1, padding=0):
    """A float64 Conv2d with weights and a non-zero bias from the test's generator (so a forgotten bias
    cannot pass unnoticed, and the learner's and the reference's runs hold the same parameters)."""
    kh, kw = as_pair(kernel)
    conv = ex.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, rng=own_rng())
    conv.W.data[...] = rng.standard_normal((c_out, c_in, kh, kw)) * np.sqrt(2.0 / (c_in * kh * kw))
    conv.b.data[...] = rng.standard_normal(c_out)
    return conv


def torch_conv(x, W, b, stride, padding, grad_out=None):
    """{"y", "x", "W", "b"}: PyTorch's output and (given grad_out) gradients for weights W and bias b."""
    torch, F = oracle.torch, oracle.F
    tx, tw, tb = (torch.tensor(np.array(a), requires_grad=True) for a in (x, W, b))
    y = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    if grad_out is None:
        return {"y": y.detach().numpy()}
    y.backward(torch.tensor(grad_out))
    return {"y": y.detach().numpy(), "x": tx.grad.numpy(), "W": tw.grad.numpy(), "b": tb.grad.numpy()}


# ----------------------------------------------------------------------------------------------- im2col


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_im2col_puts_each_window_in_one_row_like_pytorch_unfold(ex, rng, case):
    n, c, h, w, _, kernel, stride, padding = case
    x = rng.standard_normal((n, c, h, w))
    before = x.copy()
    kh, kw = as_pair(kernel)
    with explain_sizes("im2col", x.shape, kernel, stride, padding, rows_per_window=(kh * kw * c, kh * kw, c)):
        cols = ex.im2col(x, kernel, stride, padding)
    check_unchanged("im2col", before, x)
    check_output_shape(f"im2col(x of shape {x.shape}, kernel {kernel}, stride {stride}, padding {padding})", cols,
                       cols_shape(n, c, h, w, kernel, stride, padding), x.shape, kernel, stride, padding,
                       channels_first=False)

    def channel_first():
        unfolded = oracle.F.unfold(oracle.torch.tensor(x), (kh, kw), padding=padding, stride=stride)
        return unfolded.permute(0, 2, 1).reshape(-1, c * kh * kw).numpy()

    check_close_ref(f"im2col(x of shape {x.shape}, kernel {kernel}, stride {stride}, padding {padding})", cols,
                    lambda: torch_cols(x, kernel, stride, padding),
                    alternatives=lambda: [(channel_first(), "the columns in (c, i, j) order (channel slowest); this "
                                           "kata orders each row (i, j, c), channel fastest: "
                                           "cols[r, (i*kw + j)*C + c].")] + [
                        (torch_cols(np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), mode=mode),
                                    kernel, stride, 0), f"the columns of x padded with mode='{mode}' (copies of its "
                         "border): the padding is zeros, np.pad's default mode='constant'.")
                        for mode in ("edge", "reflect") if padding])


# ----------------------------------------------------------------------------------------------- col2im


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_col2im_is_the_adjoint_of_im2col(ex, rng, case):
    n, c, h, w, _, kernel, stride, padding = case
    x_shape = (n, c, h, w)
    x = rng.standard_normal(x_shape)
    upstream = rng.standard_normal(cols_shape(n, c, h, w, kernel, stride, padding))
    before = upstream.copy()
    kh, kw = as_pair(kernel)
    with explain_sizes("col2im", x_shape, kernel, stride, padding, rows_per_window=(kh * kw * c, kh * kw, c)):
        folded = ex.col2im(upstream, x_shape, kernel, stride, padding)
    check_unchanged("col2im", before, upstream)
    check_col2im_shape(folded, x_shape, padding)
    # Every case has overlapping windows. The adjoint identity holds only if each pixel collects the SUM
    # over the windows covering it: col2im(ones) must count them.
    ones = ex.col2im(np.ones(upstream.shape), x_shape, kernel, stride, padding)
    check_close_ref("col2im(ones) (how many windows cover each pixel)", ones,
                    lambda: coverage(x_shape, kernel, stride, padding),
                    alternatives=lambda: [(np.minimum(coverage(x_shape, kernel, stride, padding), 1),
                                           "1 on every pixel a window reaches, however many windows cover it: each "
                                           "window overwrote the ones before it. For <x, col2im(c)> to equal "
                                           "<im2col(x), c>, overlapping windows must be added (+=), not assigned "
                                           "(=).")])
    # <im2col(x), c> = <x, col2im(c)>, one inner product per sample: what "adjoint" means, and why col2im
    # computes dL/dx. The expected value is the reference's (checked against PyTorch's im2col by `make test`),
    # so a mistake in your im2col does not fail col2im.
    check_close_ref("<x, col2im(c)> per sample (should equal <im2col(x), c> for every x and c)",
                    np.sum(x * np.asarray(folded), axis=(1, 2, 3)),
                    lambda: np.sum((torch_cols(x, kernel, stride, padding) * upstream).reshape(n, -1), axis=1))


@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_col2im_matches_pytorch_fold_and_adds_where_windows_overlap(ex, rng, case):
    n, c, h, w, _, kernel, stride, padding = case
    x_shape = (n, c, h, w)
    cols = rng.standard_normal(cols_shape(n, c, h, w, kernel, stride, padding))
    kh, kw = as_pair(kernel)
    with explain_sizes("col2im", x_shape, kernel, stride, padding, rows_per_window=(kh * kw * c, kh * kw, c)):
        folded = ex.col2im(cols, x_shape, kernel, stride, padding)
    check_col2im_shape(folded, x_shape, padding)
    check_close_ref(f"col2im(cols, kernel {kernel}, stride {stride}, padding {padding})", folded,
                    lambda: torch_col2im(cols, x_shape, kernel, stride, padding),
                    alternatives=lambda: [(overwriting_col2im(cols, x_shape, kernel, stride, padding),
                                           "what you get by assigning each window (=) into the image: "
                                           + OVERLAPS_ADD)],
                    regions=lambda: [(coverage(x_shape, kernel, stride, padding) > 1, "several windows overlap",
                                      "there a pixel collects the SUM of every window covering it (+=, never =).")])


def test_col2im_of_ones_counts_the_windows_covering_each_pixel(ex):
    # 3x3 kernel, stride 1, no padding, on a 5x5 image: the centre is covered by 9 windows, a corner by 1.
    x_shape = (1, 1, 5, 5)
    folded = ex.col2im(np.ones((9, 9)), x_shape, 3, 1, 0)
    check_close_ref("col2im(ones) for a 3x3 kernel on a 5x5 image (= how many windows cover each pixel)",
                    folded, lambda: coverage(x_shape, 3, 1, 0),
                alternatives=[(np.ones(x_shape), "1 everywhere: each window overwrote the previous one. "
                               "Overlapping windows must ADD (+=) into the image, not assign (=).")])


def test_im2col_and_col2im_keep_float32(ex, rng):
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    cols = ex.im2col(x, 3, 1, 1)
    upstream = rng.standard_normal(cols_shape(2, 3, 6, 5, 3, 1, 1)).astype(np.float32)
    folded = ex.col2im(upstream, x.shape, 3, 1, 1)
    # A float64 result is reported with its dtype by the check itself (the reference keeps float32).
    check_close_ref("im2col of float32 x (kernel 3, stride 1, padding 1)", cols,
                    lambda: torch_cols(x.astype(np.float64), 3, 1, 1), rtol=1e-6)
    check_close_ref("col2im of float32 columns (kernel 3, stride 1, padding 1)", folded,
                    lambda: torch_col2im(upstream.astype(np.float64), x.shape, 3, 1, 1), rtol=1e-5, atol=1e-5)
