# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=regularization` runs its tests; `make reset EX=regularization` puts this original stub back.
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
        raise NotImplementedError('regularization: Dropout.__init__ is not implemented yet. Run `make check EX=regularization`.')

    def forward(self, x):
        """Training mode: keep each entry with probability 1 - p and scale it by 1 / (1 - p).

        Draws a new mask for every call and keeps the scaled mask m / (1 - p) for backward.
        Eval mode: returns x unchanged (E[y] = x already holds in training mode, so nothing to rescale).
        """
        raise NotImplementedError('regularization: Dropout.forward is not implemented yet. Run `make check EX=regularization`.')

    def backward(self, grad_out):
        """dL/dx = dL/dy * m / (1 - p), with the mask of the last forward (identity in eval mode).

        grad_out: dL/dy, the shape of the last input. Drawing a new mask here would differentiate a
        different function from the one that produced the loss.
        """
        raise NotImplementedError('regularization: Dropout.backward is not implemented yet. Run `make check EX=regularization`.')


def l2_penalty(params, lam):
    """R = (lam / 2) * sum over params of sum(p.data ** 2), returned as a Python float.

    params: an iterable of Parameters (usually the weights only: penalising biases rarely helps).
    lam: the penalty strength lambda >= 0. Add R to the data loss; call l2_penalty_backward for its
    gradient. Neither function changes p.data.
    """
    raise NotImplementedError('regularization: l2_penalty is not implemented yet. Run `make check EX=regularization`.')


def l2_penalty_backward(params, lam):
    """Add dR/dW = lam * W into p.grad for every parameter (added, never assigned).

    Call it after the network's backward pass: p.grad then holds d(data loss + R)/dp. Returns None.
    """
    raise NotImplementedError('regularization: l2_penalty_backward is not implemented yet. Run `make check EX=regularization`.')
