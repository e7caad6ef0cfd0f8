"""Probe for `make compare EX=conv`: im2col, col2im, a Conv2d's output and gradients, max pooling.

Small float64 inputs: a 3x3 convolution with stride 1 and padding 1 (overlapping windows), and a 2x2 max
pool on an input with one tied window (all zeros, as after a ReLU).
"""

import numpy as np

BATCH_SIZE = 2


def probe(m, rng):
    x = rng.standard_normal((BATCH_SIZE, 2, 5, 4))
    results = {}
    cols = np.array(m.conv.im2col(x.copy(), 3, 1, 1))
    results["im2col(x, 3, stride 1, padding 1)"] = cols
    upstream = rng.standard_normal(cols.shape)
    results["col2im(c, 3, stride 1, padding 1)"] = np.array(m.conv.col2im(upstream, x.shape, 3, 1, 1))

    conv = m.conv.Conv2d(2, 3, 3, padding=1, rng=rng)
    conv.b.data[...] = rng.standard_normal(3)
    y = np.array(conv.forward(x.copy()))
    grad_out = rng.standard_normal(y.shape)
    conv.zero_grad()
    results["Conv2d forward"] = y
    results["Conv2d dL/dx"] = np.array(conv.backward(grad_out.copy()))
    results["Conv2d dL/dW"] = np.array(conv.W.grad)
    results["Conv2d dL/db"] = np.array(conv.b.grad)

    pool = m.conv.MaxPool2d(2)
    features = rng.standard_normal((BATCH_SIZE, 2, 4, 6))
    features[:, :, :2, :2] = 0.0
    pooled = np.array(pool.forward(features.copy()))
    results["MaxPool2d forward"] = pooled
    results["MaxPool2d dL/dx"] = np.array(pool.backward(rng.standard_normal(pooled.shape)))
    return results
