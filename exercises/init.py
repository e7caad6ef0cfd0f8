# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=init` runs its tests; `make reset EX=init` puts this original stub back.
"""Exercise 6: weight initialisation that keeps signals alive through deep networks.

For y = x W with independent zero-mean entries, Var(y_j) = fan_in * Var(W) * Var(x). To keep the
variance of activations constant from layer to layer we want fan_in * Var(W) = 1 (forward pass) and
fan_out * Var(W) = 1 (backward pass).

- Xavier/Glorot (tanh, sigmoid: roughly linear near 0): compromise between both,
      Var(W) = 2 / (fan_in + fan_out).
- He/Kaiming (ReLU): ReLU zeroes half of its inputs, halving the second moment, so double it,
      Var(W) = 2 / fan_in.

A uniform distribution on [-a, a] has variance a^2 / 3, so the uniform variants use a = sqrt(3 Var).
Every function returns an array of shape (fan_in, fan_out), float64, drawn from `rng`
(a numpy.random.Generator).
"""

import numpy as np


def xavier_uniform(fan_in, fan_out, rng):
    """Uniform on [-a, a] with a = sqrt(6 / (fan_in + fan_out)), so Var = 2 / (fan_in + fan_out)."""
    raise NotImplementedError('init: xavier_uniform is not implemented yet. Run `make check EX=init`.')


def xavier_normal(fan_in, fan_out, rng):
    """Normal with mean 0 and standard deviation sqrt(2 / (fan_in + fan_out))."""
    raise NotImplementedError('init: xavier_normal is not implemented yet. Run `make check EX=init`.')


def he_uniform(fan_in, fan_out, rng):
    """Uniform on [-a, a] with a = sqrt(6 / fan_in), so Var = 2 / fan_in."""
    raise NotImplementedError('init: he_uniform is not implemented yet. Run `make check EX=init`.')


def he_normal(fan_in, fan_out, rng):
    """Normal with mean 0 and standard deviation sqrt(2 / fan_in)."""
    raise NotImplementedError('init: he_normal is not implemented yet. Run `make check EX=init`.')
