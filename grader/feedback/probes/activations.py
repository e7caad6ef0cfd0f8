"""Probe for `make compare EX=activations`: each activation's output and input gradient on small inputs.

The inputs include exact zeros (ReLU's kink) and a few large values (where a naive sigmoid overflows).
"""

import numpy as np


def probe(m, rng):
    x = 3.0 * rng.standard_normal((4, 6))
    x[0, :3] = 0.0
    x[1, :4] = [-800.0, 800.0, -40.0, 40.0]
    grad_out = rng.standard_normal(x.shape)
    results = {}
    for name in ("ReLU", "Sigmoid", "Tanh"):
        layer = getattr(m.activations, name)()
        with np.errstate(under="ignore"):
            results[f"{name} forward"] = np.array(layer.forward(x.copy()))
            results[f"{name} dL/dx"] = np.array(layer.backward(grad_out.copy()))
    return results
