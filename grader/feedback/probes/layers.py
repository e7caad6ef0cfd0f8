"""Probe for `make compare EX=layers`: Linear's forward pass and its three gradients on small inputs.

Each quantity goes into `out` as soon as it is computed, so when the learner's backward raises, the
forward pass is still compared.
"""

import numpy as np

BATCH_SIZE = 8


def probe(m, rng, out=None):
    out = {} if out is None else out
    n, n_in, n_out = BATCH_SIZE, 5, 3
    # Every random number is drawn first, so the learner's and the reference's runs see the same values
    # whatever the learner's constructor does with rng.
    W = rng.standard_normal((n_in, n_out))
    b = rng.standard_normal(n_out)
    x = rng.standard_normal((n, n_in))
    grad_out = rng.standard_normal((n, n_out))
    second = rng.standard_normal((n, n_out))
    W4 = rng.standard_normal((4, 4))
    x4 = rng.standard_normal((n, 4))
    grad4 = rng.standard_normal((n, 4))

    layer = m.layers.Linear(n_in, n_out, rng=np.random.default_rng(0))
    # Fixed values instead of the layer's own initialisation, so only forward and backward are compared.
    layer.W.data[...] = W
    layer.b.data[...] = b
    layer.zero_grad()
    out["forward Y"] = layer.forward(x)
    out["dL/dX"] = layer.backward(grad_out)
    out["dL/dW"] = layer.W.grad.copy()
    out["dL/db"] = layer.b.grad.copy()
    # A second backward without zero_grad must add to the parameter gradients.
    layer.backward(second)
    out["W.grad after a second backward"] = layer.W.grad.copy()
    layer.zero_grad()
    out["W.grad after zero_grad"] = layer.W.grad.copy()
    # A square W keeps the shapes right even when a transpose is missing, so the numbers can show it.
    square = m.layers.Linear(4, 4, rng=np.random.default_rng(1))
    square.W.data[...] = W4
    square.forward(x4)
    out["dL/dX, square W"] = square.backward(grad4)
    out["dL/dW, square W"] = square.W.grad.copy()
    return out
