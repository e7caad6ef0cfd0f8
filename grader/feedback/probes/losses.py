"""Probe for `make compare EX=losses`: the three functions and the cross-entropy's value and gradient
(twice: a second backward without a new forward must return the same gradient).

The logits include one row shifted by +1000 and one by -1000, where an unshifted exp overflows or
underflows to 0.
"""

import numpy as np

BATCH_SIZE = 6


def probe(m, rng):
    n, c = BATCH_SIZE, 4
    logits = 2.0 * rng.standard_normal((n, c))
    logits[1] += 1000.0
    logits[2] -= 1000.0
    labels = rng.integers(0, c, size=n)
    losses = m.losses
    results = {}
    with np.errstate(under="ignore"):
        results["logsumexp(z)"] = np.asarray(losses.logsumexp(logits.copy()))
        results["softmax(z)"] = np.asarray(losses.softmax(logits.copy()))
        results["log_softmax(z)"] = np.asarray(losses.log_softmax(logits.copy()))
        loss = losses.SoftmaxCrossEntropy()
        results["cross-entropy loss"] = float(loss.forward(logits.copy(), labels.copy()))
        results["dL/dlogits"] = np.array(loss.backward())  # a copy: the second call must not change it
        results["dL/dlogits, second backward"] = np.asarray(loss.backward())
    return results
