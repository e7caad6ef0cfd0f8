# Your exercise file: replace each `raise NotImplementedError(...)` with your code.
# `make check EX=activations` runs its tests; `make reset EX=activations` puts this original stub back.
"""Exercise 2: element-wise activations, ReLU, Sigmoid and Tanh.

An activation applies one scalar function f to every entry: y = f(x), any shape, y has x's shape and
dtype. Since y_i depends on x_i alone, the Jacobian dy/dx is diagonal and the chain rule
    dL/dx_i = sum_j dL/dy_j * dy_j/dx_i
keeps only the term j = i:
    dL/dx = dL/dy * f'(x)          (element-wise product, shape of x)

The three derivatives, each written with whatever is cheapest to keep from forward:
    ReLU      f(x) = max(x, 0)             f'(x) = [x > 0]       keep the mask from the *input*
    Sigmoid   s(x) = 1 / (1 + exp(-x))     s'(x) = s (1 - s)     keep the *output* s
    Tanh      t(x) = tanh(x)               t'(x) = 1 - t^2       keep the *output* t
At the kink x = 0 ReLU has no derivative; like PyTorch we take 0 there (the mask is x > 0, strictly).

Numerical care: exp(-x) overflows for x < -709 in float64 and x < -88 in float32, so the textbook
sigmoid breaks (overflow warning) long before its value stops being representable. Since
s(x) = 1 / (1 + e) and s(-|x|) = e / (1 + e) with e = exp(-|x|) in (0, 1], evaluating exp only at
-|x| never overflows for any finite x.

None of these layers has parameters, and none may modify its input: the caller still owns x.
"""

import numpy as np

from .layers import Layer


class ReLU(Layer):
    """y = max(x, 0), element-wise; x of any shape, y of the same shape and dtype."""

    def __init__(self):
        super().__init__()
        self._mask = None

    def forward(self, x):
        """y = max(x, 0). Remembers where x > 0 for backward."""
        raise NotImplementedError('activations: ReLU.forward is not implemented yet. Run `make check EX=activations`.')

    def backward(self, grad_out):
        """dL/dx = dL/dy * [x > 0], with x the input of the last forward; shape of x."""
        raise NotImplementedError('activations: ReLU.backward is not implemented yet. Run `make check EX=activations`.')


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)), element-wise, without overflow for any finite x (float32 or float64)."""

    def __init__(self):
        super().__init__()
        self._s = None

    def forward(self, x):
        """s = sigmoid(x), same shape and dtype as x. Remembers s for backward.

        With e = exp(-|x|), which lies in (0, 1] and so cannot overflow:
            x >= 0:  s = 1 / (1 + e)
            x <  0:  s = e / (1 + e)     (multiply the top and bottom of 1 / (1 + exp(-x)) by exp(x))
        """
        raise NotImplementedError('activations: Sigmoid.forward is not implemented yet. Run `make check EX=activations`.')

    def backward(self, grad_out):
        """dL/dx = dL/dy * s (1 - s), with s the output of the last forward."""
        raise NotImplementedError('activations: Sigmoid.backward is not implemented yet. Run `make check EX=activations`.')


class Tanh(Layer):
    """y = tanh(x), element-wise; same shape and dtype as x."""

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x):
        """y = tanh(x) (np.tanh is stable for every finite x). Remembers y for backward."""
        raise NotImplementedError('activations: Tanh.forward is not implemented yet. Run `make check EX=activations`.')

    def backward(self, grad_out):
        """dL/dx = dL/dy * (1 - y^2), with y = tanh(x) the output of the last forward."""
        raise NotImplementedError('activations: Tanh.backward is not implemented yet. Run `make check EX=activations`.')
