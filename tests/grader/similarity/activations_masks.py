import numpy as np


class ReLU:
    def forward(self, x):
        self._mask = x > 0
        return np.where(self._mask, x, np.zeros_like(x))

    def backward(self, grad_out):
        return np.where(self._mask, grad_out, np.zeros_like(grad_out))


class Sigmoid:
    def forward(self, x):
        e = np.exp(-np.abs(x))
        self._s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        return self._s

    def backward(self, grad_out):
        return grad_out * self._s * (1.0 - self._s)


class Tanh:
    def forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_out):
        return grad_out * (1.0 - self._y ** 2)
