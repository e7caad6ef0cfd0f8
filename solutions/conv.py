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
    # <exercise>
    kh, kw = _pair(kernel_size)
    n, channels, height, width = x.shape
    out_h = output_size(height, kh, stride, padding)
    out_w = output_size(width, kw, stride, padding)
    # Channels last, (N, H, W, C): each row of cols lists its window with the channel varying fastest.
    xp = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    # windows[n, oh, ow, c, i, j] = xp[n, oh*stride + i, ow*stride + j, c] (a view: nothing is copied yet)
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    # Rows (n, oh, ow), columns (i, j, c): move the channel axis after the kernel offsets, then flatten.
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * out_h * out_w, kh * kw * channels)
    # </exercise>


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """Fold rows back into windows, ADDING where windows overlap: the adjoint of im2col.

    cols: (N*OH*OW, kh*kw*C) in the layout of im2col. x_shape: (N, C, H, W) of the original input.
    Returns dx of shape (N, C, H, W) with

        dx[n, c, h, w] = sum of cols[(n*OH + oh)*OW + ow, (i*kw + j)*C + c]
                         over all (oh, ow, i, j) with oh*stride + i - padding = h, ow*stride + j - padding = w

    (entries that fell on the zero padding are dropped). This is dL/dx when cols is dL/dcols.
    Loop over the kh*kw kernel offsets only: each step adds one (N, OH, OW, C) block, vectorised.
    """
    # <exercise>
    kh, kw = _pair(kernel_size)
    n, channels, height, width = x_shape
    out_h = output_size(height, kh, stride, padding)
    out_w = output_size(width, kw, stride, padding)
    # blocks[n, oh, ow, i, j, c]: row (n, oh, ow) of cols, split into its kernel offsets and channels.
    blocks = cols.reshape(n, out_h, out_w, kh, kw, channels)
    # Channels last, like the rows of cols; turned back into (N, C, H, W) at the end.
    padded = np.zeros((n, height + 2 * padding, width + 2 * padding, channels), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            # +=, not =: a pixel covered by several windows collects a contribution from each.
            padded[:, i:i + stride * out_h:stride, j:j + stride * out_w:stride, :] += blocks[:, :, :, i, j, :]
    # Gradients that landed on the padding belong to no input pixel.
    return padded[:, padding:padding + height, padding:padding + width, :].transpose(0, 3, 1, 2)
    # </exercise>


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
        # <exercise>
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        kh, kw = _pair(kernel_size)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = (kh, kw)
        self.stride = stride
        self.padding = padding
        fan_in = in_channels * kh * kw
        weights = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(out_channels, in_channels, kh, kw))
        self.W = Parameter(weights.astype(dtype))
        self.b = Parameter(np.zeros(out_channels, dtype=dtype))
        self._cols = None
        self._x_shape = None
        # </exercise>

    def _weight_matrix(self):
        """W as the (out, kh*kw*in) matrix whose columns follow im2col's (i, j, c) order."""
        out_channels = self.W.data.shape[0]
        return self.W.data.transpose(0, 2, 3, 1).reshape(out_channels, -1)

    def forward(self, x):
        """y = im2col(x) Wm^T + b, reshaped to (N, out_channels, OH, OW).

        x: (N, in_channels, H, W). Keeps the columns for backward (dL/dW needs them).
        """
        # <exercise>
        if x.ndim != 4 or x.shape[1] != self.W.data.shape[1]:
            raise ValueError(f"Conv2d expects input of shape (N, {self.W.data.shape[1]}, H, W), got {x.shape}")
        n, _, height, width = x.shape
        kh, kw = self.kernel_size
        out_h = output_size(height, kh, self.stride, self.padding)
        out_w = output_size(width, kw, self.stride, self.padding)
        self._x_shape = x.shape
        self._cols = im2col(x, self.kernel_size, self.stride, self.padding)
        y = self._cols @ self._weight_matrix().T + self.b.data  # (N*OH*OW, out): one row per output pixel
        return y.reshape(n, out_h, out_w, -1).transpose(0, 3, 1, 2)
        # </exercise>

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
        # <exercise>
        out_channels, in_channels, kh, kw = self.W.data.shape
        # G: grad_out in the layout of Y, one row per output pixel (n, oh, ow), one column per channel.
        grad = grad_out.transpose(0, 2, 3, 1).reshape(-1, out_channels)
        grad_w = grad.T @ self._cols  # (out, kh*kw*in), columns in (i, j, c) order
        self.W.grad += grad_w.reshape(out_channels, kh, kw, in_channels).transpose(0, 3, 1, 2)
        self.b.grad += grad.sum(axis=0)
        if not self.input_gradient:
            return None
        grad_cols = grad @ self._weight_matrix()  # dL/dcols, (N*OH*OW, kh*kw*in)
        return col2im(grad_cols, self._x_shape, self.kernel_size, self.stride, self.padding)
        # </exercise>


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
        # <exercise>
        super().__init__()
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size[0] if stride is None else stride
        self._first_max = None
        self._x_shape = None
        # </exercise>

    def forward(self, x):
        """The maximum of every window, (N, C, OH, OW). Remembers, for backward, x's shape and which
        position of each window holds its first maximum."""
        # <exercise>
        kh, kw = self.kernel_size
        s = self.stride
        n, channels, height, width = x.shape
        out_h = (height - kh) // s + 1
        out_w = (width - kw) // s + 1
        # windows[n, c, oh, ow, i*kw + j] = x[n, c, oh*s + i, ow*s + j]
        windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::s, ::s]
        windows = windows.reshape(n, channels, out_h, out_w, kh * kw)
        # argmax gives the FIRST maximum in row-major window order: the one position that takes the gradient.
        self._first_max = np.arange(kh * kw) == windows.argmax(axis=-1)[..., np.newaxis]
        self._x_shape = x.shape
        return windows.max(axis=-1)
        # </exercise>

    def backward(self, grad_out):
        """Route each gradient to its window's first maximum: dL/dx has x's shape, zeros elsewhere."""
        # <exercise>
        kh, kw = self.kernel_size
        s = self.stride
        out_h, out_w = grad_out.shape[2:]
        # Each window's gradient at the position of its first maximum, 0 at the others: (N, C, OH, OW, kh, kw).
        routed = (grad_out[..., np.newaxis] * self._first_max).reshape(*grad_out.shape, kh, kw)
        grad_x = np.zeros(self._x_shape, dtype=grad_out.dtype)
        for i in range(kh):
            for j in range(kw):
                # += because with overlapping windows (stride < kernel) one pixel can be the maximum of
                # several windows and must collect every one of their gradients.
                grad_x[:, :, i:i + s * out_h:s, j:j + s * out_w:s] += routed[..., i, j]
        return grad_x
        # </exercise>


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W) in C order (c slowest, w fastest, as PyTorch's nn.Flatten), and back."""

    def __init__(self):
        # <exercise>
        super().__init__()
        self._shape = None
        # </exercise>

    def forward(self, x):
        """x: (N, C, H, W) -> (N, C*H*W); remembers x's shape for backward."""
        # <exercise>
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)
        # </exercise>

    def backward(self, grad_out):
        """grad_out: (N, C*H*W) -> dL/dx of x's shape (N, C, H, W): flattening moves no value."""
        # <exercise>
        return grad_out.reshape(self._shape)
        # </exercise>


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
