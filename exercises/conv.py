# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=conv` runs its tests; `make reset EX=conv` puts this original stub back.
"""Stretch exercise: convolution as one matrix product (im2col), its adjoint (col2im), max pooling, Flatten.

A 2-D convolution layer (strictly, a cross-correlation, as in every deep-learning library) with weights
W of shape (out, in, kh, kw), bias b of shape (out,), stride s and zero padding p maps x (N, C, H, W) to

    y[n, o, oh, ow] = b[o] + sum_{c, i, j} W[o, c, i, j] * xp[n, c, oh*s + i, ow*s + j]

where xp is x with p zeros added on each side of H and W, and OH = (H + 2p - kh) // s + 1 (same for OW).

im2col. Copy every window into one row of a matrix: the row of output pixel (n, oh, ow) holds the kh*kw*C
values xp[n, c, oh*s + i, ow*s + j]. Then the whole layer is ONE matrix product:

    cols: (N*OH*OW, kh*kw*C)   Wm: (out, kh*kw*C)   Y = cols Wm^T + b: (N*OH*OW, out)

and its gradients are those of a Linear layer (G = dL/dY as an (N*OH*OW, out) matrix):

    dL/dWm = G^T cols      dL/db = sum of G's rows      dL/dcols = G Wm

col2im. dL/dcols must be turned into dL/dx. Every input pixel appears in up to kh*kw rows of cols (the
windows overlap), so by the chain rule its gradient is the SUM of all those entries: col2im adds every
row back into the window it came from. It is the adjoint (transpose) of the linear map im2col:
<im2col(x), c> = <x, col2im(c)> for every x and c.

Max pooling keeps the largest value of each window; its gradient goes to that position only (the others
did not influence the output). Flatten reshapes (N, C, H, W) to (N, C*H*W) for a Linear layer.

Layout. Within a row of cols the kernel offset (i, j) varies slowest and the channel c fastest (this
kata's convention; PyTorch's unfold orders them (c, i, j)). The weights are kept in PyTorch's layout
(out, in, kh, kw), so the weight matrix moves W's `in` axis last to match the columns:
Wm = W.transpose(0, 2, 3, 1).reshape(out, kh*kw*in).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .activations import ReLU
from .layers import Layer, Linear, Parameter
from .network import Sequential


def _pair(value):
    """3 -> (3, 3); (3, 2) -> (3, 2): kernel sizes may be given as one int or (height, width)."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    height, width = value
    return int(height), int(width)


def output_size(size, kernel, stride=1, padding=0):
    """Number of window positions along one axis: (size + 2 * padding - kernel) // stride + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def im2col(x, kernel_size, stride=1, padding=0):
    """Unfold every kh x kw window of x into one row of a matrix.

    x: (N, C, H, W). kernel_size: int or (kh, kw). stride, padding: ints (the same for both axes).
    Returns cols of shape (N*OH*OW, kh*kw*C) with OH = (H + 2*padding - kh) // stride + 1 (same for OW):

        cols[(n*OH + oh)*OW + ow, (i*kw + j)*C + c] = xp[n, c, oh*stride + i, ow*stride + j]

    where xp is x zero-padded by `padding` on each side of H and W. One row per output pixel; within a
    row the kernel offset (i, j) varies slowest and the channel c fastest.
    x is not modified.
    """
    raise NotImplementedError('conv: im2col is not implemented yet. Run `make check EX=conv`.')


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """Fold rows back into windows, ADDING where windows overlap: the adjoint of im2col.

    cols: (N*OH*OW, kh*kw*C) in the layout of im2col. x_shape: (N, C, H, W) of the original input.
    Returns dx of shape (N, C, H, W) with

        dx[n, c, h, w] = sum of cols[(n*OH + oh)*OW + ow, (i*kw + j)*C + c]
                         over all (oh, ow, i, j) with oh*stride + i - padding = h, ow*stride + j - padding = w

    (entries that fell on the zero padding are dropped). This is dL/dx when cols is dL/dcols.
    Loop over the kh*kw kernel offsets only: each step adds one (N, OH, OW, C) block, vectorised.
    """
    raise NotImplementedError('conv: col2im is not implemented yet. Run `make check EX=conv`.')


class Conv2d(Layer):
    """A 2-D convolution: y = W * x + b, computed as im2col and one matrix product.

    x: (N, in_channels, H, W)   y: (N, out_channels, OH, OW), OH = (H + 2*padding - kh) // stride + 1
    self.W: Parameter (out_channels, in_channels, kh, kw) (PyTorch's layout), He-initialised:
            normal with standard deviation sqrt(2 / fan_in), fan_in = in_channels * kh * kw
    self.b: Parameter (out_channels,), zeros
    kernel_size: int or (kh, kw); stride, padding: ints. rng: a numpy Generator (a fresh one when None).
    dtype: float64 for gradient checks; float32 trains about twice as fast.

    input_gradient: when False, backward returns None instead of dL/dx. Set it on a network's first
    layer (build_mnist_cnn does): nothing uses the gradient with respect to the images, and computing it
    is over half of that layer's backward. PyTorch skips it the same way (images do not require grad).
    """

    input_gradient = True

    def __init__(self, in_channels, out_channels, kernel_size, *, stride=1, padding=0, rng=None,
                 dtype=np.float64):
        raise NotImplementedError('conv: Conv2d.__init__ is not implemented yet. Run `make check EX=conv`.')

    def _weight_matrix(self):
        """W as the (out, kh*kw*in) matrix whose columns follow im2col's (i, j, c) order."""
        out_channels = self.W.data.shape[0]
        return self.W.data.transpose(0, 2, 3, 1).reshape(out_channels, -1)

    def forward(self, x):
        """y = im2col(x) Wm^T + b, reshaped to (N, out_channels, OH, OW).

        x: (N, in_channels, H, W). Keeps the columns for backward (dL/dW needs them).
        """
        raise NotImplementedError('conv: Conv2d.forward is not implemented yet. Run `make check EX=conv`.')

    def backward(self, grad_out):
        """Backpropagate through Y = cols Wm^T + b, then fold dL/dcols back with col2im.

        grad_out: dL/dy, shape (N, out_channels, OH, OW). Returns dL/dx, shape (N, in_channels, H, W).
        With G = grad_out as an (N*OH*OW, out) matrix (one row per output pixel):
            dL/dWm = G^T cols      (out, N*OH*OW) @ (N*OH*OW, kh*kw*in) -> (out, kh*kw*in),
                                   then reshaped to (out, kh, kw, in) and transposed to (out, in, kh, kw)
            dL/db  = sum of G over all rows (every sample AND every pixel)   -> (out,)
            dL/dx  = col2im(G Wm)  (N*OH*OW, out) @ (out, kh*kw*in), folded -> (N, in, H, W)
        Added into W.grad and b.grad, never assigned. Returns None when self.input_gradient is False.
        """
        raise NotImplementedError('conv: Conv2d.backward is not implemented yet. Run `make check EX=conv`.')


class MaxPool2d(Layer):
    """Max pooling: y[n, c, oh, ow] = max of the kh x kw window of x[n, c] at (oh*stride, ow*stride).

    x: (N, C, H, W) -> y: (N, C, OH, OW), OH = (H - kh) // stride + 1 (no padding). stride defaults to
    the kernel size (non-overlapping windows). No parameters.

    Gradient: each output's gradient goes to the one input position that was the maximum of its window;
    every other position gets 0 from that window. Ties: the FIRST maximum in row-major window order
    (smallest i, then smallest j) takes the whole gradient, as in PyTorch; never all tied positions
    (that would count it twice) and never a share (that is average pooling). With overlapping windows
    (stride < kernel) one input can be the maximum of several windows and collects all their gradients.
    """

    def __init__(self, kernel_size, stride=None):
        raise NotImplementedError('conv: MaxPool2d.__init__ is not implemented yet. Run `make check EX=conv`.')

    def forward(self, x):
        """The maximum of every window, (N, C, OH, OW). Remembers, for backward, x's shape and which
        position of each window holds its first maximum."""
        raise NotImplementedError('conv: MaxPool2d.forward is not implemented yet. Run `make check EX=conv`.')

    def backward(self, grad_out):
        """Route each gradient to its window's first maximum: dL/dx has x's shape, zeros elsewhere."""
        raise NotImplementedError('conv: MaxPool2d.backward is not implemented yet. Run `make check EX=conv`.')


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W) in C order (c slowest, w fastest, as PyTorch's nn.Flatten), and back."""

    def __init__(self):
        raise NotImplementedError('conv: Flatten.__init__ is not implemented yet. Run `make check EX=conv`.')

    def forward(self, x):
        """x: (N, C, H, W) -> (N, C*H*W); remembers x's shape for backward."""
        raise NotImplementedError('conv: Flatten.forward is not implemented yet. Run `make check EX=conv`.')

    def backward(self, grad_out):
        """grad_out: (N, C*H*W) -> dL/dx of x's shape (N, C, H, W): flattening moves no value."""
        raise NotImplementedError('conv: Flatten.backward is not implemented yet. Run `make check EX=conv`.')


def build_mnist_cnn(rng, dtype=np.float32):
    """The CNN of the `cnn` milestone and of `make bench`, built from your layers (given, not an exercise).

    (N, 1, 28, 28) -> conv 5x5, 16 channels, padding 2 -> max-pool 2 -> ReLU -> (N, 16, 14, 14)
                   -> conv 5x5, 32 channels, padding 2 -> max-pool 2 -> ReLU -> (N, 32, 7, 7)
                   -> Flatten -> Linear(32*7*7, 10) -> logits (N, 10)
    Pooling before the ReLU computes exactly the usual conv -> ReLU -> pool: ReLU and max commute
    (max(relu(a), relu(b)) = relu(max(a, b)), both are increasing), but the ReLU then touches 4x fewer
    values, forward and backward. float32 by default: half the memory traffic of float64, same accuracy.
    """
    first = Conv2d(1, 16, 5, padding=2, rng=rng, dtype=dtype)
    first.input_gradient = False  # nothing uses dL/d(images)
    return Sequential(
        first,
        MaxPool2d(2),
        ReLU(),
        Conv2d(16, 32, 5, padding=2, rng=rng, dtype=dtype),
        MaxPool2d(2),
        ReLU(),
        Flatten(),
        Linear(32 * 7 * 7, 10, rng=rng, dtype=dtype),
    )
