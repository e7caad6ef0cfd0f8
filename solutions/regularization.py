"""Stretch exercise: regularisation with inverted dropout and an L2 weight penalty.

Dropout. In training mode every entry of the input is kept with probability 1 - p and set to zero
with probability p, independently:

    y = x * m / (1 - p),    m_i ~ Bernoulli(1 - p)            x, y: any shape, the same

Dividing the survivors by 1 - p ("inverted" dropout) keeps the expected value unchanged,
E[y_i] = x_i (1 - p) / (1 - p) = x_i, so in eval mode the layer is simply the identity and nothing
needs rescaling at test time. y is linear in x for a fixed mask, so the backward pass multiplies by
the very same scaled mask: dL/dx = dL/dy * m / (1 - p).

L2 penalty ("weight decay"). Adding R(W) = (lambda / 2) * sum_k ||W_k||^2 (squared Frobenius norms,
usually of the weight matrices only, not the biases) to the loss pulls weights towards zero; the 1/2
makes the gradient clean:

    dR/dW_k = lambda * W_k.

For plain SGD this equals weight decay: W <- W - lr (g + lambda W) = (1 - lr lambda) W - lr g.
"""

import numpy as np

from .layers import Layer


class Dropout(Layer):
    """Inverted dropout: y = x * mask / (1 - p) in training mode, y = x in eval mode.

    p: the probability of *dropping* an entry, 0 <= p < 1 (p = 1 would drop everything and divide by
       zero; ValueError otherwise). p = 0 is the identity.
    rng: a numpy Generator drawing the masks (a fresh one when None); the same seed gives the same
       masks, which makes a training run reproducible.
    x: any shape; the output has x's shape and dtype.
    """

    def __init__(self, p=0.5, *, rng=None):
        # <exercise>
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout needs 0 <= p < 1 (the probability of dropping an entry), got p={p}")
        self.p = float(p)
        self.rng = np.random.default_rng() if rng is None else rng
        self._mask = None
        # </exercise>

    def forward(self, x):
        """Training mode: keep each entry with probability 1 - p and scale it by 1 / (1 - p).

        Draws a new mask for every call and keeps the scaled mask m / (1 - p) for backward.
        Eval mode: returns x unchanged (E[y] = x already holds in training mode, so nothing to rescale).
        """
        # <exercise>
        if not self.training:
            self._mask = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        # The scaled mask is stored in x's dtype so float32 activations stay float32.
        self._mask = (keep / (1.0 - self.p)).astype(x.dtype)
        return x * self._mask
        # </exercise>

    def backward(self, grad_out):
        """dL/dx = dL/dy * m / (1 - p), with the mask of the last forward (identity in eval mode).

        grad_out: dL/dy, the shape of the last input. Drawing a new mask here would differentiate a
        different function from the one that produced the loss.
        """
        # <exercise>
        if self._mask is None:
            return grad_out
        return grad_out * self._mask
        # </exercise>


def l2_penalty(params, lam):
    """R = (lam / 2) * sum over params of sum(p.data ** 2), returned as a Python float.

    params: an iterable of Parameters (usually the weights only: penalising biases rarely helps).
    lam: the penalty strength lambda >= 0. Add R to the data loss; call l2_penalty_backward for its
    gradient. Neither function changes p.data.
    """
    # <exercise>
    total = 0.0
    for p in params:
        total += float(np.sum(p.data ** 2))
    return 0.5 * lam * total
    # </exercise>


def l2_penalty_backward(params, lam):
    """Add dR/dW = lam * W into p.grad for every parameter (added, never assigned).

    Call it after the network's backward pass: p.grad then holds d(data loss + R)/dp. Returns None.
    """
    # <exercise>
    for p in params:
        p.grad += lam * p.data
    # </exercise>
