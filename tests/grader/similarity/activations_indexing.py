import numpy as np


class ReLU:
    def forward(self, x):
        positive = x > 0
        self._mask = positive
        out = x.copy()
        out[~positive] = 0
        return out

    def backward(self, grad_out):
        grad_in = np.array(grad_out, copy=True)
        grad_in[~self._mask] = 0
        return grad_in


class Sigmoid:
    def forward(self, x):
        out = np.empty_like(x)
        big = x >= 0
        small = ~big
        out[big] = 1 / (1 + np.exp(-x[big]))
        exp_x = np.exp(x[small])
        out[small] = exp_x / (exp_x + 1)
        self._s = out
        return out

    def backward(self, grad_out):
        s = self._s
        local = s - s * s
        return local * grad_out


class Tanh:
    def forward(self, x):
        y = np.tanh(x)
        self._y = y
        return y

    def backward(self, grad_out):
        y = self._y
        derivative = 1 - np.square(y)
        return derivative * grad_out
