"""Probe for `make compare EX=stability`: every function on the same inputs, moderate and extreme.

Moderate inputs (random logits of size ~3) where both versions must agree with the reference, and for the
stable versions extreme ones (logits up to 1e4). The naive versions on extreme inputs are the
stability milestone's business (`python -m grader milestone stability`), not a comparison.
"""

import warnings

import numpy as np


def probe(m, rng):
    s = m.stability
    z = 3.0 * rng.standard_normal((4, 5))
    labels = rng.integers(0, 5, size=4)
    x = 3.0 * rng.standard_normal(6)
    t = rng.integers(0, 2, size=6).astype(np.float64)
    big_z = z * 1000.0
    big_x = x * 1000.0
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kind in ("naive", "stable"):
            results[f"{kind}_softmax(z)"] = getattr(s, f"{kind}_softmax")(z)
            results[f"{kind}_log_softmax(z)"] = getattr(s, f"{kind}_log_softmax")(z)
            results[f"{kind}_cross_entropy(z, y)"] = getattr(s, f"{kind}_cross_entropy")(z, labels)
            results[f"{kind}_sigmoid(x)"] = getattr(s, f"{kind}_sigmoid")(x)
            results[f"{kind}_bce_with_logits(x, t)"] = getattr(s, f"{kind}_bce_with_logits")(x, t)
        results["stable_softmax(1000 z)"] = s.stable_softmax(big_z)
        results["stable_log_softmax(1000 z)"] = s.stable_log_softmax(big_z)
        results["stable_cross_entropy(1000 z, y)"] = s.stable_cross_entropy(big_z, labels)
        results["stable_sigmoid(1000 x)"] = s.stable_sigmoid(big_x)
        results["stable_bce_with_logits(1000 x, t)"] = s.stable_bce_with_logits(big_x, t)
        results["stable_bce_with_logits([40], [1])"] = s.stable_bce_with_logits(np.array([40.0]), np.array([1.0]))
    return results
