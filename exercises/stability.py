# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=stability` runs its tests; `make reset EX=stability` puts this original stub back.
"""Stretch exercise: numerical stability, the textbook formula next to the one that survives.

Floating-point numbers have a limited range and precision:

                    largest       exp(x) overflows   smallest normal (subnormal)   eps = spacing at 1
    float64    1.8e308                 x > 709.8       2.2e-308 (4.9e-324)        2.2e-16
    float32    3.4e38                  x > 88.7        1.2e-38  (1.4e-45)         1.2e-7

so exp(1000) is inf in float64 and exp(100) is inf in float32; exp(-1000) underflows to 0; and
1 + exp(-40) == 1 in float64 (exp(-40) = 4e-18 < eps / 2; in float32 already 1 + exp(-17) == 1).
Then inf / inf = NaN, log(0) = -inf and 0 * inf = NaN. Every function below comes twice:

- naive_*: the textbook formula, written literally ON PURPOSE. It is right for moderate inputs and
  breaks for large ones; the tests check that it breaks where the mathematics says it must, and
  the stability milestone (`make grade`, or `.venv/bin/python -m grader milestone stability`)
  measures where: a table of magnitudes, float32 and float64.
- stable_*: the same mathematical function rearranged so that no intermediate overflows or loses
  the answer, accurate to rounding error for every finite input (tested up to |z| = 1e4).

The rearrangements:
    softmax(z) = softmax(z - c) for any c; with c = max(z) every exponent is <= 0 and the largest is 0.
    log softmax(z)_i = (z_i - m) - log sum_j exp(z_j - m),  m = max(z): the sum lies in [1, K].
    sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, with e = exp(-|x|) in (0, 1].
    log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|))   ("softplus"; log1p(u) keeps u when 1 + u == 1)
    BCE(z, t) = -[t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))] = max(z, 0) - z t + log1p(exp(-|z|)).

Conventions: arrays keep their floating dtype (float32 in, float32 out, so float32's limits show);
softmax-like functions work along the last axis; losses average over the batch and return a 0-d
value of the input's dtype. Inputs are never modified.
"""

import numpy as np


def naive_softmax(z):
    """softmax(z)_i = exp(z_i) / sum_j exp(z_j) along the last axis, exactly as written.

    z: (..., K) float. Returns the same shape and dtype. Overflows (inf / inf = NaN) once a logit
    exceeds ~709 (float64) / ~88 (float32); gives 0 / 0 = NaN when every logit is below ~-745 / ~-103.
    """
    raise NotImplementedError('stability: naive_softmax is not implemented yet. Run `make check EX=stability`.')


def stable_softmax(z):
    """softmax along the last axis as exp(z - m) / sum exp(z - m), m = the max of each row.

    z: (..., K) float. Returns the same shape and dtype; finite, in [0, 1], rows summing to 1, for
    every finite z. The max is per row (axis=-1, keepdims=True): one row's scale must not affect another.
    """
    raise NotImplementedError('stability: stable_softmax is not implemented yet. Run `make check EX=stability`.')


def naive_log_softmax(z):
    """log(softmax(z)) computed literally as np.log(naive_softmax(z)).

    z: (..., K) float. Same shape and dtype. Besides naive_softmax's NaN, a probability that underflows
    to 0 becomes log(0) = -inf although log softmax(z)_i = z_i - logsumexp(z) is a modest number.
    """
    raise NotImplementedError('stability: naive_log_softmax is not implemented yet. Run `make check EX=stability`.')


def stable_log_softmax(z):
    """log softmax(z)_i = (z_i - m) - log(sum_j exp(z_j - m)), m = the max of each row (last axis).

    z: (..., K) float. Same shape and dtype; finite for every finite z (the sum is at least 1).
    """
    raise NotImplementedError('stability: stable_log_softmax is not implemented yet. Run `make check EX=stability`.')


def naive_cross_entropy(logits, labels):
    """L = -(1/N) sum_n log(naive_softmax(logits)_n[labels_n]): probabilities first, then their log.

    logits: (N, K) float; labels: (N,) integers in [0, K). Returns a 0-d value of logits' dtype.
    Gives inf as soon as the probability of a true class underflows to 0 (its logit ~745 below the
    row's max in float64, ~104 in float32), and NaN when naive_softmax overflows.
    """
    raise NotImplementedError('stability: naive_cross_entropy is not implemented yet. Run `make check EX=stability`.')


def stable_cross_entropy(logits, labels):
    """L = -(1/N) sum_n stable_log_softmax(logits)_n[labels_n]: stay in log space throughout.

    logits: (N, K) float; labels: (N,) integers in [0, K). Returns a 0-d value of logits' dtype,
    finite for every finite input.
    """
    raise NotImplementedError('stability: stable_cross_entropy is not implemented yet. Run `make check EX=stability`.')


def naive_sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)), exactly as written.

    x: float array, any shape. Same shape and dtype. exp(-x) overflows for x < -709 (float64) / -88
    (float32): NumPy warns, and the result 1 / inf = 0 is right only because the true value is tiny.
    """
    raise NotImplementedError('stability: naive_sigmoid is not implemented yet. Run `make check EX=stability`.')


def stable_sigmoid(x):
    """sigmoid(x) = 1 / (1 + e) where x >= 0 and e / (1 + e) where x < 0, with e = exp(-|x|).

    x: float array, any shape. Same shape and dtype. e lies in (0, 1], so nothing overflows, and for
    x < 0 the small result e / (1 + e) keeps its full relative precision.
    """
    raise NotImplementedError('stability: stable_sigmoid is not implemented yet. Run `make check EX=stability`.')


def naive_bce_with_logits(logits, targets):
    """Binary cross-entropy from logits, the textbook way: p = naive_sigmoid(z), then
        L = -(1/N) sum [t log(p) + (1 - t) log(1 - p)].

    logits, targets: float arrays of the same shape (N,) (targets in [0, 1]); returns a 0-d value of
    logits' dtype. Once p rounds to exactly 1 (z > ~37 in float64, ~17 in float32) log(1 - p) = -inf:
    the loss is inf for t = 0, and NaN for t = 1, where it is (1 - t) * log(1 - p) = 0 * (-inf).
    """
    raise NotImplementedError('stability: naive_bce_with_logits is not implemented yet. Run `make check EX=stability`.')


def stable_bce_with_logits(logits, targets):
    """Binary cross-entropy from logits, L = (1/N) sum [max(z, 0) - z t + log1p(exp(-|z|))].

    logits, targets: float arrays of the same shape (N,) (targets in [0, 1]); returns a 0-d value of
    logits' dtype. From log sigmoid(z) = -log(1 + exp(-z)) and log(1 - sigmoid(z)) = -log(1 + exp(z)):
    both are softplus terms, and log(1 + exp(a)) = max(a, 0) + log1p(exp(-|a|)) never overflows.
    log1p keeps tiny losses: a confident right answer (z = 40, t = 1) costs exp(-40), not 0.
    """
    raise NotImplementedError('stability: stable_bce_with_logits is not implemented yet. Run `make check EX=stability`.')
