# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=losses` runs its tests; `make reset EX=losses` puts this original stub back.
"""Exercise 3: stable softmax, log-softmax, logsumexp, and the softmax cross-entropy loss.

softmax turns a vector of scores (logits) z into probabilities:
    softmax(z)_i = exp(z_i) / sum_j exp(z_j)
exp overflows above 709 in float64 (88 in float32), and when every z_j is very negative every
exp(z_j) underflows to 0 and the ratio is 0/0. Both disappear with one identity: for any constant c,
    softmax(z) = softmax(z - c),    log sum_j exp(z_j) = c + log sum_j exp(z_j - c).
Choose c = m = max_j z_j: every exponent is <= 0 (no overflow) and the largest term is exp(0) = 1,
so the sum lies in [1, C] and its log is finite (no log 0). From there
    logsumexp(z)   = m + log sum_j exp(z_j - m)
    log_softmax(z) = z - logsumexp(z) = (z - m) - log sum_j exp(z_j - m)

Cross-entropy of a batch: logits Z of shape (N, C), integer labels y of shape (N,) in [0, C):
    L = -(1/N) sum_n log softmax(Z_n)_{y_n}
Its gradient is short because log and exp cancel:
    dL/dZ_nk = (softmax(Z_n)_k - [k == y_n]) / N
Computing it in one step ("fused") never forms the (C, C) Jacobian of softmax, and it stays exact
where softmax(Z_n)_k rounds to 0 or 1.

Every function keeps the caller's floating dtype: float32 logits give float32 results.
"""

import numpy as np


def _as_float(z):
    """z as a NumPy float array: floating dtypes are kept as they are (no copy); integers become float64."""
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    return z


def logsumexp(z, axis=-1, keepdims=False):
    """log(sum(exp(z), axis)) without overflow or log 0, for any finite z.

    z: array of any shape. Returns z's shape without `axis` (or with it as size 1 when keepdims).
        logsumexp(z) = m + log sum exp(z - m),   m = max of z along axis
    Float dtypes are kept (float32 in, float32 out).
    """
    raise NotImplementedError('losses: logsumexp is not implemented yet. Run `make check EX=losses`.')


def softmax(z, axis=-1):
    """exp(z) / sum(exp(z), axis), shape and float dtype of z; entries in [0, 1] summing to 1 along axis.

    Computed as exp(z - m) / sum exp(z - m) with m = max of z along axis (same value, no overflow).
    For logits of shape (N, C) the default axis=-1 normalises each row: one distribution per sample.
    """
    raise NotImplementedError('losses: softmax is not implemented yet. Run `make check EX=losses`.')


def log_softmax(z, axis=-1):
    """log(softmax(z)) along axis, exactly: (z - m) - log sum exp(z - m); shape and float dtype of z.

    Never log(softmax(z)): where softmax rounds to 0 that is log 0 = -inf, while the true value
    (about z_i - max z) is finite.
    """
    raise NotImplementedError('losses: log_softmax is not implemented yet. Run `make check EX=losses`.')


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) against integer labels, with its fused gradient.

        loss = SoftmaxCrossEntropy()
        value = loss.forward(logits, labels)   # logits (N, C) float, labels (N,) int in [0, C) -> float
        dlogits = loss.backward()              # (N, C), same dtype as logits

    Not a Layer: it takes two inputs, has no parameters, and its backward needs no upstream gradient
    (the loss is where backpropagation starts, dL/dL = 1).
    """

    def __init__(self):
        self._log_probs = None
        self._labels = None

    def forward(self, logits, labels):
        """L = -(1/N) sum_n log_softmax(logits)[n, labels[n]], a Python float.

        logits: (N, C) float array (its dtype is kept). labels: (N,) integer array, values in [0, C).
        Raises ValueError when logits is not 2-D, or labels are not integers, not of shape (N,),
        negative, or >= C; its message says what is wrong and names the offending value or shape
        (e.g. "got label 9 for 7 classes"). Remembers what backward needs.
        """
        raise NotImplementedError('losses: SoftmaxCrossEntropy.forward is not implemented yet. Run `make check EX=losses`.')

    def backward(self):
        """dL/dlogits = (softmax(logits) - onehot(labels)) / N, shape (N, C), for the last forward.

        Raises RuntimeError if forward has not been called. Calling it again without a new forward
        returns the same gradient: build it in a new array, never in what forward saved.
        """
        raise NotImplementedError('losses: SoftmaxCrossEntropy.backward is not implemented yet. Run `make check EX=losses`.')

    def __call__(self, logits, labels):
        """loss(logits, labels) is loss.forward(logits, labels)."""
        return self.forward(logits, labels)
