"""Probe for `make compare EX=layers`: Linear's forward pass and its three gradients on small inputs."""

import numpy as np

BATCH_SIZE = 8


def probe(m, rng):
    n, n_in, n_out = BATCH_SIZE, 5, 3
    layer = m.layers.Linear(n_in, n_out, rng=rng)
    # Fixed values instead of the layer's own initialisation, so only forward and backward are compared.
    layer.W.data[...] = rng.standard_normal((n_in, n_out))
    layer.b.data[...] = rng.standard_normal(n_out)
    x = rng.standard_normal((n, n_in))
    grad_out = rng.standard_normal((n, n_out))
    second = rng.standard_normal((n, n_out))

    layer.zero_grad()
    y = layer.forward(x)
    grad_x = layer.backward(grad_out)
    results = {"forward Y": y, "dL/dX": grad_x, "dL/dW": layer.W.grad.copy(), "dL/db": layer.b.grad.copy()}
    # A second backward without zero_grad must add to the parameter gradients.
    layer.backward(second)
    results["W.grad after a second backward"] = layer.W.grad.copy()
    layer.zero_grad()
    results["W.grad after zero_grad"] = layer.W.grad.copy()
    # A square W keeps the shapes right even when a transpose is missing, so the numbers can show it.
    square = m.layers.Linear(4, 4, rng=rng)
    square.W.data[...] = rng.standard_normal((4, 4))
    x4 = rng.standard_normal((n, 4))
    square.forward(x4)
    grad4 = rng.standard_normal((n, 4))
    results["dL/dX, square W"] = square.backward(grad4)
    results["dL/dW, square W"] = square.W.grad.copy()
    return results
