"""Probe for `make compare EX=conv`: im2col, col2im, a Conv2d's output and gradients, max pooling.

Small float64 inputs: a 3x3 convolution with stride 1 and padding 1 (overlapping windows), and a 2x2 max
pool on an input with one tied window (all zeros, as after a ReLU). Each quantity goes into `out` as soon
as it is computed, so when a later function raises, the earlier ones are still compared.
"""

import numpy as np

BATCH_SIZE = 2


def probe(m, rng, out=None):
    out = {} if out is None else out
    # Every random number is drawn first, so the learner's and the reference's runs see the same values
    # whatever the learner's code does (the convolution gets a generator of its own and fixed weights).
    x = rng.standard_normal((BATCH_SIZE, 2, 5, 4))
    upstream = rng.standard_normal((BATCH_SIZE * 5 * 4, 3 * 3 * 2))
    W = rng.standard_normal((3, 2, 3, 3)) / 3.0
    b = rng.standard_normal(3)
    grad_out = rng.standard_normal((BATCH_SIZE, 3, 5, 4))
    features = rng.standard_normal((BATCH_SIZE, 2, 4, 6))
    features[:, :, :2, :2] = 0.0
    grad_pooled = rng.standard_normal((BATCH_SIZE, 2, 2, 3))

    out["im2col(x, 3, stride 1, padding 1)"] = np.array(m.conv.im2col(x.copy(), 3, 1, 1))
    out["col2im(c, 3, stride 1, padding 1)"] = np.array(m.conv.col2im(upstream.copy(), x.shape, 3, 1, 1))

    conv = m.conv.Conv2d(2, 3, 3, padding=1, rng=np.random.default_rng(0))
    conv.W.data[...] = W
    conv.b.data[...] = b
    conv.zero_grad()
    out["Conv2d forward"] = np.array(conv.forward(x.copy()))
    out["Conv2d dL/dx"] = np.array(conv.backward(grad_out.copy()))
    out["Conv2d dL/dW"] = np.array(conv.W.grad)
    out["Conv2d dL/db"] = np.array(conv.b.grad)

    pool = m.conv.MaxPool2d(2)
    out["MaxPool2d forward"] = np.array(pool.forward(features.copy()))
    out["MaxPool2d dL/dx"] = np.array(pool.backward(grad_pooled))
    return out
