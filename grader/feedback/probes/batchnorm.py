"""Probe for `make compare EX=batchnorm`: BatchNorm1d and BatchNorm2d in both modes, in numbers."""

import numpy as np

BATCH_SIZE = 6


def _run(layer, rng, shape):
    view = [1] * len(shape)
    view[1] = shape[1]
    layer.gamma.data[...] = rng.uniform(0.5, 2.0, size=shape[1])
    layer.beta.data[...] = rng.standard_normal(shape[1])
    batches = [rng.uniform(-2, 2, size=view) + rng.uniform(0.5, 2, size=view) * rng.standard_normal(shape)
               for _ in range(3)]
    grad_out = rng.standard_normal(shape)
    out = {}
    layer.zero_grad()
    for x in batches[:2]:
        layer.forward(x)
    y = layer.forward(batches[2])
    grad_x = layer.backward(grad_out)
    out["training forward"] = y
    out["training dL/dx"] = grad_x
    out["dL/dgamma"] = layer.gamma.grad.copy()
    out["dL/dbeta"] = layer.beta.grad.copy()
    out["running_mean (3 steps)"] = np.array(layer.running_mean, dtype=np.float64)
    out["running_var (3 steps)"] = np.array(layer.running_var, dtype=np.float64)
    layer.eval()
    out["eval forward"] = layer.forward(batches[0])
    out["eval dL/dx"] = layer.backward(grad_out)
    return out


def probe(m, rng):
    results = {}
    for name, value in _run(m.batchnorm.BatchNorm1d(4), rng, (BATCH_SIZE, 4)).items():
        results[f"1d {name}"] = value
    for name, value in _run(m.batchnorm.BatchNorm2d(3), rng, (2, 3, 4, 4)).items():
        results[f"2d {name}"] = value
    return results
