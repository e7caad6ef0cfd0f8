"""Probe for `make compare EX=regularization`: dropout's exact facts and the L2 penalty, in numbers.

Dropout's masks depend on how random numbers are drawn, so the probe reports quantities every correct
implementation shares: the eval-mode output, the scale given to survivors, the gradient relative to the
forward mask, and the L2 penalty with its gradient.
"""

import numpy as np

P = 0.3


def probe(m, rng):
    x = rng.standard_normal((8, 6)) + 3.0  # no zeros, so y != 0 marks the kept entries
    grad_out = rng.standard_normal(x.shape)
    seed = int(rng.integers(2**31))

    layer = m.regularization.Dropout(P, rng=np.random.default_rng(seed))
    y = np.asarray(layer.forward(x), dtype=np.float64)
    grad_x = np.asarray(layer.backward(grad_out), dtype=np.float64)
    kept = y != 0
    results = {
        "survivor scale y/x (= 1/(1-p))": float(np.mean(y[kept] / x[kept])) if kept.any() else 0.0,
        "dL/dx / dL/dy on kept entries": float(np.mean(grad_x[kept] / grad_out[kept])) if kept.any() else 0.0,
        "max |dL/dx| where forward dropped": float(np.max(np.abs(grad_x[~kept]))) if (~kept).any() else 0.0,
    }
    layer.eval()
    results["eval forward (= x)"] = np.asarray(layer.forward(x), dtype=np.float64)
    results["eval backward (= dL/dy)"] = np.asarray(layer.backward(grad_out), dtype=np.float64)

    W = m.layers.Parameter(rng.standard_normal((5, 4)))
    b = m.layers.Parameter(rng.standard_normal(4))
    results["l2_penalty(lam=0.1)"] = float(m.regularization.l2_penalty([W, b], 0.1))
    m.regularization.l2_penalty_backward([W, b], 0.1)
    results["dR/dW"] = W.grad.copy()
    results["dR/db"] = b.grad.copy()
    return results
