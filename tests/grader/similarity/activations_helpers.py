import numpy as np


def _logistic(values):
    """Sigmoid through tanh, which never overflows: s(x) = (1 + tanh(x / 2)) / 2."""
    half = np.asarray(0.5, dtype=values.dtype)
    return half * (np.tanh(values * half) + 1)


class ReLU:
    def forward(self, x):
        self._mask = np.greater(x, 0)
        return np.maximum(x, 0).astype(x.dtype, copy=False)

    def backward(self, grad_out):
        return np.multiply(grad_out, self._mask, dtype=grad_out.dtype)


class Sigmoid:
    def forward(self, x):
        self._s = _logistic(x)
        return self._s

    def backward(self, grad_out):
        return np.multiply(grad_out, self._s * (1 - self._s))


class Tanh:
    def forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_out):
        return np.multiply(grad_out, 1 - self._y * self._y)
