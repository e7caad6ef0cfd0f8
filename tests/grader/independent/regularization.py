"""Stretch exercise, regularisation, written independently."""

import numpy as np

from .layers import Layer


class Dropout(Layer):
    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()
        self.scale = None

    def forward(self, x):
        if not self.training:
            self.scale = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.scale = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self.scale

    def backward(self, grad_out):
        return grad_out if self.scale is None else grad_out * self.scale


def l2_penalty(params, lam):
    return float(lam / 2 * sum(np.vdot(p.data, p.data) for p in params))


def l2_penalty_backward(params, lam):
    for p in params:
        np.add(p.grad, lam * p.data, out=p.grad)
