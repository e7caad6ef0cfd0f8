# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=gradcheck` runs its tests; `make reset EX=gradcheck` puts this original stub back.
"""Exercise 4: numerical gradient checking, the test every backward pass must pass.

The central difference
    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
has error O(eps^2) (the eps^2 f''' / 6 term of the Taylor series), while the forward difference
(f(x + eps e_i) - f(x)) / eps has error O(eps) (eps f'' / 2). With eps = 1e-6 in float64 the central
difference agrees with a correct analytic gradient to about 1e-8 relative error, so anything above
1e-5 is a bug. In float32 (about 7 significant digits) eps = 1e-6 is lost in rounding: always check
in float64.
"""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of a scalar function with respect to an array.

    f: a function of no arguments returning a float; it reads x, which is perturbed *in place*.
    x: float array of any shape. Every entry is restored exactly before returning.
    Returns an array of x's shape: grad[i] = (f() at x_i + eps - f() at x_i - eps) / (2 eps).
    """
    raise NotImplementedError('gradcheck: numerical_gradient is not implemented yet. Run `make check EX=gradcheck`.')


def relative_error(a, b):
    """||a - b|| / max(||a||, ||b||) with Euclidean norms over all entries; 0.0 when both are zero.

    Scale-free (1e-8 means eight matching digits whatever the size of the gradient) and at most 2.
    """
    raise NotImplementedError('gradcheck: relative_error is not implemented yet. Run `make check EX=gradcheck`.')


def check_layer_gradients(layer, x, *, seed=0):
    """Compare a layer's backward with central differences; returns {name: relative error}.

    x: float64 input of the layer. The scalar checked is L = sum(layer.forward(x) * G) with G a random
    upstream gradient drawn from numpy.random.default_rng(seed): dL/dy = G, so backward(G) must return
    dL/dx. Keys: "x" for the input, then each name of layer.named_parameters() (parameter gradients
    are read from p.grad after zero_grad, forward, backward).
    Raises ValueError unless x is float64: in float32 a step of 1e-6 is lost in rounding.
    """
    raise NotImplementedError('gradcheck: check_layer_gradients is not implemented yet. Run `make check EX=gradcheck`.')
